import { startFakeLlm } from './server.js'

// Standalone: `pnpm --filter @spanlens/fake-llm start`; FAKE_LLM_PORT picks the port (default 4010).
const port = Number(process.env.FAKE_LLM_PORT ?? 4010)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`FAKE_LLM_PORT must be a port number, got ${process.env.FAKE_LLM_PORT}`)
  process.exit(1)
}
const llm = await startFakeLlm({ port, host: process.env.FAKE_LLM_HOST ?? '127.0.0.1' })
console.log(`fake LLM listening on ${llm.url}`)
console.log(`  OPENAI_BASE_URL=${llm.url}/v1`)
console.log(`  ANTHROPIC_BASE_URL=${llm.url}`)
const stop = () => void llm.close().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
