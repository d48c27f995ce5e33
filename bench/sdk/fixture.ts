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

/**
 * A local HTTP server answering every request with COMPLETION, in a child
 * process: the provider is another process in real life, and its work then
 * stays out of the app's event loop and CPU figures.
 */
export async function startLlmProcess(): Promise<{ url: string; close: () => void }> {
  const { spawn } = await import('node:child_process')
  const code = `const body = ${JSON.stringify(COMPLETION)};
require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body)) })
  .listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n') })`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (c) => reject(new Error(`LLM server exited with ${c}`)))
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))
  })
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() }
}

/**
 * Yields to the event loop until what the SDK does after a call has run: the
 * span is built in one setImmediate batch and encoded for export in the next
 * (hence three turns, one to spare), as it would while an app waits on I/O.
 */
export const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
