/** The one chat call every SDK benchmark makes, and its canned reply. */
export const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, how can I help?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
})
export const PARAMS = {
  model: 'gpt-4o-mini',
  temperature: 0.2,
  messages: [
    { role: 'system' as const, content: 'You are a helpful assistant.' },
    { role: 'user' as const, content: 'Say hello to Ada (ada@example.com).' },
  ],
}
/** Answers without any I/O: isolates the client and the wrapper from network noise. */
export const inProcessFetch: typeof fetch = async () =>
  new Response(COMPLETION, { status: 200, headers: { 'content-type': 'application/json' } })
