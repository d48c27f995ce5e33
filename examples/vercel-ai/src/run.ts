import { withFakeProviderByDefault } from '@spanlens/fake-llm'
import { main } from './main.js'

const result = await withFakeProviderByDefault(() => main())
console.log(`plan: ${result.plan}`)
console.log(`trip: ${JSON.stringify(result.trip)}`)
console.error(`spans sent to ${process.env.SPANLENS_ENDPOINT ?? 'http://localhost:4318'}`)
