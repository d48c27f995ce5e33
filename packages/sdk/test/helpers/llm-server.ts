import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

/**
 * A local server speaking the OpenAI (chat completions, responses, embeddings)
 * and Anthropic (messages) wire formats, JSON and SSE, so the real client
 * libraries run unmodified against it. The request's `model` picks a behaviour:
 *   error-429 / error-500  → that HTTP error with the provider's JSON error body
 *   slow                   → a long stream with pauses (for aborts)
 *   malformed              → 200 with a body of the wrong shape
 * Tools in the request make the model call a tool unless a tool result is last.
 */
export interface LlmServer {
  url: string
  requests: { path: string; body: Record<string, unknown> }[]
  close(): Promise<void>
}

type Json = Record<string, unknown>
const now = () => Math.floor(Date.now() / 1000)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function startLlmServer(): Promise<LlmServer> {
  const requests: LlmServer['requests'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Json) : {}
      requests.push({ path: req.url ?? '', body })
      handle(req, res, body).catch(() => res.destroy())
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_test', ...headers })
  res.end(JSON.stringify(body))
}

function sse(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  return (data: unknown, event?: string) => {
    if (res.destroyed) return
    res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, body: Json) {
  const model = String(body.model ?? '')
  const anthropic = req.url?.startsWith('/v1/messages')
  if (model === 'error-429' || model === 'error-500') {
    const status = model === 'error-429' ? 429 : 500
    if (anthropic) {
      return json(res, status, { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message: `fake ${status}` } })
    }
    return json(res, status, { error: { message: `fake ${status}`, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null, param: null } })
  }
  if (model === 'malformed') return json(res, 200, { choices: 'not-a-list', usage: 42, content: { weird: true }, output: 7 })
  switch (req.url) {
    case '/v1/chat/completions':
      return chat(res, body)
    case '/v1/responses':
      return responses(res, body)
    case '/v1/embeddings':
      return embeddings(res, body)
    case '/v1/messages':
      return messages(res, body)
    default:
      return json(res, 404, { error: { message: 'not found' } })
  }
}

// ---------------------------------------------------------------- OpenAI chat

function wantsTool(body: Json): boolean {
  const msgs = (body.messages as Json[] | undefined) ?? []
  return Array.isArray(body.tools) && body.tools.length > 0 && msgs.at(-1)?.role !== 'tool'
}

/** The tool the fake model calls: the request's first one, so any client's tool set works. */
function toolName(body: Json): string {
  const t = (body.tools as Json[] | undefined)?.[0]
  return String((t?.function as Json | undefined)?.name ?? t?.name ?? 'get_weather')
}

function chatReply(body: Json): string {
  const format = (body.response_format as Json | undefined)?.type
  if (format === 'json_schema' || format === 'json_object') return '{"name":"Ada","age":36}'
  return 'Hello from the fake model!'
}

const chatUsage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } }

async function chat(res: ServerResponse, body: Json) {
  const model = `${String(body.model)}-2024`
  const tool = wantsTool(body)
  if (!body.stream) {
    const message = tool
      ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: toolName(body), arguments: '{"city":"Paris"}' } }] }
      : { role: 'assistant', content: chatReply(body), refusal: null }
    return json(res, 200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: now(),
      model,
      choices: [{ index: 0, message, finish_reason: tool ? 'tool_calls' : 'stop', logprobs: null }],
      usage: chatUsage,
    })
  }
  const send = sse(res)
  const base = { id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: now(), model }
  const chunk = (delta: Json, finish: string | null = null) => send({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })
  chunk({ role: 'assistant', content: '' })
  if (body.model === 'slow') {
    for (let i = 0; i < 200 && !res.destroyed; i++) {
      chunk({ content: `tok${i} ` })
      await sleep(10)
    }
  } else if (tool) {
    chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: toolName(body), arguments: '' } }] })
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })
  } else {
    const text = chatReply(body)
    for (const piece of text.match(/.{1,6}/g) ?? []) {
      await sleep(2)
      chunk({ content: piece })
    }
  }
  chunk({}, tool ? 'tool_calls' : 'stop')
  if ((body.stream_options as Json | undefined)?.include_usage) send({ ...base, choices: [], usage: chatUsage })
  send('[DONE]')
  res.end()
}

// ------------------------------------------------------------ OpenAI responses

async function responses(res: ServerResponse, body: Json) {
  const full = {
    id: 'resp_1',
    object: 'response',
    created_at: now(),
    status: 'completed',
    model: `${String(body.model)}-2024`,
    output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Responses hello', annotations: [] }] }],
    usage: { input_tokens: 10, output_tokens: 3, total_tokens: 13, input_tokens_details: { cached_tokens: 4 }, output_tokens_details: { reasoning_tokens: 2 } },
  }
  if (!body.stream) return json(res, 200, full)
  const send = sse(res)
  let seq = 0
  send({ type: 'response.created', sequence_number: seq++, response: { ...full, status: 'in_progress', output: [], usage: null } }, 'response.created')
  for (const delta of ['Responses ', 'hello']) {
    await sleep(2)
    send({ type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, delta }, 'response.output_text.delta')
  }
  send({ type: 'response.completed', sequence_number: seq++, response: full }, 'response.completed')
  res.end()
}

function embeddings(res: ServerResponse, body: Json) {
  const vec = [0.1, 0.2, 0.3, 0.4]
  const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec
  json(res, 200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: 'text-embedding-3-small', usage: { prompt_tokens: 4, total_tokens: 4 } })
}

// ------------------------------------------------------------------ Anthropic

async function messages(res: ServerResponse, body: Json) {
  const model = `${String(body.model)}-20250101`
  const msgs = (body.messages as Json[] | undefined) ?? []
  const last = msgs.at(-1)
  const lastIsToolResult = Array.isArray(last?.content) && (last.content as Json[]).some((b) => b.type === 'tool_result')
  const tool = Array.isArray(body.tools) && body.tools.length > 0 && !lastIsToolResult
  const usage = { input_tokens: 20, output_tokens: 6, cache_read_input_tokens: 5, cache_creation_input_tokens: 3 }
  if (!body.stream) {
    const content: Json[] = [{ type: 'text', text: 'Hello from Claude' }]
    if (tool) content.push({ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } })
    return json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', model, content, stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null, usage })
  }
  const send = sse(res)
  const ev = (type: string, data: Json) => send({ type, ...data }, type)
  ev('message_start', { message: { id: 'msg_s1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } })
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
  const pieces = body.model === 'slow' ? Array.from({ length: 200 }, (_, i) => `tok${i} `) : ['Hello ', 'from ', 'Claude']
  for (const text of pieces) {
    if (res.destroyed) return
    await sleep(body.model === 'slow' ? 10 : 2)
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })
  }
  ev('content_block_stop', { index: 0 })
  if (tool) {
    ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } })
    ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } })
    ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } })
    ev('content_block_stop', { index: 1 })
  }
  ev('message_delta', { delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } })
  ev('message_stop', {})
  res.end()
}
