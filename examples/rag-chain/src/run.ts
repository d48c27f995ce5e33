import { withFakeProviderByDefault } from '@spanlens/fake-llm'
import { main } from './main.js'

const result = await withFakeProviderByDefault(() => main())
console.log(result.answer)
console.log(`sources: ${result.sources.join(', ')}; trace ${result.traceId}; feedback ${result.scored ? 'stored' : 'NOT stored'}`)
console.error(`spans sent to ${process.env.SPANLENS_ENDPOINT ?? 'http://localhost:4318'}`)
