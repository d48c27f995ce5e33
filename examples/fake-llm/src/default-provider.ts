import { startFakeLlm } from './server.js'

/**
 * Runs `fn` against the fake provider unless the environment names a real one:
 * when neither OPENAI_BASE_URL nor ANTHROPIC_BASE_URL is set, starts the fake
 * in-process and points both (and placeholder API keys) at it for the run.
 * This is what lets every example's `pnpm start` work offline.
 */
export async function withFakeProviderByDefault<T>(fn: () => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  if (env.OPENAI_BASE_URL || env.ANTHROPIC_BASE_URL) return fn()
  const llm = await startFakeLlm()
  env.OPENAI_BASE_URL = `${llm.url}/v1`
  env.ANTHROPIC_BASE_URL = llm.url
  env.OPENAI_API_KEY = 'sk-fake' // never send a real key to the fake
  env.ANTHROPIC_API_KEY = 'sk-ant-fake'
  console.error(`(no OPENAI_BASE_URL/ANTHROPIC_BASE_URL set: using the fake LLM provider at ${llm.url})`)
  try {
    return await fn()
  } finally {
    await llm.close()
  }
}
