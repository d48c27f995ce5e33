/**
 * One variant for instructions.ts, run under valgrind: `warmup` calls, a flush, then `calls` calls (a
 * flush every 100 and at the end), each with a fresh request, as worker.mjs makes them.
 *
 *   node sdk/instructions-worker.mjs <bare|spanlens|spanlens-<tag>> <llm-url> <receiver-url> <warmup> <calls> <request-json>
 */
import { createRequire } from 'node:module'

const [variant, llmUrl, receiverUrl, warmup, calls, requestJson] = process.argv.slice(2)
const require = createRequire(import.meta.url)
const { OpenAI } = require('openai')
let client = new OpenAI({ apiKey: 'sk-bench', baseURL: `${llmUrl}/v1`, maxRetries: 0 })
let flush = async () => undefined
if (variant !== 'bare') {
  const tag = variant.slice('spanlens-'.length)
  const sdk = await import(tag ? new URL(`../../packages/sdk/dist-${tag}/index.js`, import.meta.url).href : '@spanlens/sdk')
  sdk.init({ endpoint: receiverUrl, apiKey: 'bench', flushOnExit: false, env: {} })
  client = sdk.wrapOpenAI(client)
  flush = () => sdk.flush(60_000)
}
const request = JSON.parse(requestJson)
const fresh = () => ({ ...request, messages: request.messages.map((m) => ({ ...m })) })
for (let i = 0; i < Number(warmup); i++) await client.chat.completions.create(fresh())
await flush()
for (let i = 0; i < Number(calls); i++) {
  await client.chat.completions.create(fresh())
  if (i % 100 === 99) await flush()
}
await flush()
process.exit(0)
