import { withFakeProviderByDefault } from '@spanlens/fake-llm'
import { main } from './main.js'

await withFakeProviderByDefault(() => main())
console.error(`spans sent to ${process.env.SPANLENS_ENDPOINT ?? 'http://localhost:4318'}`)
