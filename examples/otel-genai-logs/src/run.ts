import { withFakeProviderByDefault } from '@spanlens/fake-llm'
import { main } from './main.js'

// `pnpm start`: against the Spanlens at SPANLENS_ENDPOINT (default the local server) and,
// without OPENAI_BASE_URL, the fake provider.
await withFakeProviderByDefault(async () => {
  const { answers } = await main({ endpoint: process.env.SPANLENS_ENDPOINT ?? 'http://127.0.0.1:4318', apiKey: process.env.SPANLENS_API_KEY ?? '' })
  for (const a of answers) console.log(a)
})
