import OpenAI from 'openai'

/**
 * An OpenAI client whose calls never leave the process: each answers a one-word chat
 * completion from its own fetch, so calls end tens of microseconds apart and a loop of
 * them never waits for I/O.
 */
export function inProcessOpenAI(): OpenAI {
  return new OpenAI({
    apiKey: 'sk-test',
    baseURL: 'http://in-process/v1',
    maxRetries: 0,
    fetch: async () =>
      new Response(JSON.stringify({ id: 'c', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] }), {
        headers: { 'content-type': 'application/json' },
      }),
  })
}
