/**
 * An in-process LLM provider for the demo: a `fetch` for the official clients
 * (`new OpenAI({ fetch })`, `new Anthropic({ fetch })`) that answers in the
 * OpenAI chat-completions (JSON and SSE) and Anthropic messages wire formats.
 * What each call does is decided by the workload and passed in the
 * `x-demo-script` request header, so the demo can shape latency, length,
 * refusals and failures per release and per user group. No port, no network.
 */
export interface Script {
  /** Time before the first byte (ms): the TTFT of a stream. */
  delayMs: number
  /** A stream's time from its first to its last chunk (ms). Default 100. */
  streamMs?: number
  text: string
  inputTokens: number
  outputTokens: number
  /** HTTP error status instead of an answer. */
  status?: number
  /** Ask for this tool instead of answering (OpenAI only). */
  toolCall?: { name: string; arguments: string }
}

export const SCRIPT_HEADER = 'x-demo-script'

type Json = Record<string, unknown>

export const scriptedFetch: typeof fetch = async (input, init) => {
  const request = new Request(input as string | URL | Request, init)
  const script = JSON.parse(request.headers.get(SCRIPT_HEADER) ?? '{}') as Script
  const body = (await request.json().catch(() => ({}))) as Json
  await sleep(script.delayMs ?? 0, init?.signal ?? undefined)
  const model = String(body.model ?? 'unknown')
  const path = new URL(request.url).pathname
  if (script.status) return error(script.status, path.endsWith('/messages'))
  if (path.endsWith('/chat/completions')) return openAiChat(body, model, script)
  if (path.endsWith('/messages')) return anthropicMessage(model, script)
  if (path.endsWith('/embeddings')) return embeddings(body, model)
  return new Response(JSON.stringify({ error: { message: `no route ${path}` } }), { status: 404 })
}

function openAiChat(body: Json, model: string, s: Script): Response {
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 12)}`
  const created = Math.floor(Date.now() / 1000)
  const usage = { prompt_tokens: s.inputTokens, completion_tokens: s.outputTokens, total_tokens: s.inputTokens + s.outputTokens }
  const toolCalls = s.toolCall ? [{ id: `call_${id.slice(-6)}`, type: 'function', function: s.toolCall }] : undefined
  const finish = toolCalls ? 'tool_calls' : 'stop'
  if (!body.stream) {
    const message = { role: 'assistant', content: toolCalls ? null : s.text, ...(toolCalls ? { tool_calls: toolCalls } : {}) }
    return json({ id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: finish }], usage })
  }
  const chunk = (delta: Json, finishReason: string | null, extra: Json = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`
  const words = s.text.split(/(?<= )/)
  const events = [chunk({ role: 'assistant', content: '' }, null), ...words.map((w) => chunk({ content: w }, null)), chunk({}, finish)]
  const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true
  if (includeUsage) events.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`)
  events.push('data: [DONE]\n\n')
  return sse(events, s.streamMs ?? 100)
}

function anthropicMessage(model: string, s: Script): Response {
  return json({
    id: `msg_${Math.random().toString(36).slice(2, 12)}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: s.text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: s.inputTokens, output_tokens: s.outputTokens, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  })
}

function embeddings(body: Json, model: string): Response {
  const inputs = Array.isArray(body.input) ? body.input : [body.input]
  const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: vector(String(text)) }))
  const tokens = inputs.reduce((n: number, t) => n + String(t).split(/\s+/).length, 0)
  return json({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } })
}

/** A deterministic 8-dimensional bag-of-words vector: similar texts land close. */
function vector(text: string): number[] {
  const v = new Array<number>(8).fill(0)
  for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
    let h = 0
    for (const c of word) h = (h * 31 + c.charCodeAt(0)) >>> 0
    v[h % 8]! += 1
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => x / norm)
}

function error(status: number, anthropic: boolean): Response {
  const message = status === 429 ? 'Rate limit reached' : 'The server had an error while processing your request'
  const payload = anthropic
    ? { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message } }
    : { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null } }
  return json(payload, status)
}

const json = (payload: unknown, status = 200) => new Response(JSON.stringify(payload), { status, headers: { 'content-type': 'application/json' } })

/**
 * Sends the first quarter of the events at once (the first token) and the rest
 * `durationMs` later. Two writes, one timer: a timer per word would make a
 * stream's length depend on how busy the machine is (timers fire late under
 * load), and the demo's latency SLO must see the script, not the machine.
 */
function sse(events: string[], durationMs: number): Response {
  const encoder = new TextEncoder()
  const first = Math.max(1, Math.ceil(events.length / 4))
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(events.slice(0, first).join('')))
      await sleep(durationMs)
      controller.enqueue(encoder.encode(events.slice(first).join('')))
      controller.close()
    },
  })
  return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } })
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason ?? new Error('aborted'))
    }, { once: true })
  })
}
