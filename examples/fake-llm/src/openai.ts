import type { ServerResponse } from 'node:http'
import { json, pieces, sleep, sse, unixNow, type Json } from './http.js'
import { embed, isSlow, jsonReply, REPLY, toolArguments } from './model.js'

/** OpenAI wire format: chat completions, Responses API, embeddings, models, errors. */

const OPENAI_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
}

export function openaiError(res: ServerResponse, status: number, message = `fake ${status}`): void {
  json(res, status, { error: { message, type: OPENAI_ERROR_TYPES[status] ?? 'server_error', code: null, param: null } })
}

interface ToolChoice {
  name: string
  parameters: unknown
}

/** The tool the fake model calls: the one `tool_choice` names, else the request's first, so any client's tool set works. */
function pickTool(tools: unknown, choice: unknown): ToolChoice | undefined {
  if (!Array.isArray(tools) || tools.length === 0 || choice === 'none') return undefined
  const specs = (tools as Json[]).map((t) => {
    const fn = (t.function as Json | undefined) ?? t
    return { name: String(fn.name ?? 'get_weather'), parameters: fn.parameters }
  })
  const c = choice as Json | undefined
  const wanted = (c?.function as Json | undefined)?.name ?? c?.name
  return specs.find((s) => s.name === wanted) ?? specs[0]
}

// ------------------------------------------------------------------------- chat

const chatUsage = {
  prompt_tokens: 12,
  completion_tokens: 5,
  total_tokens: 17,
  prompt_tokens_details: { cached_tokens: 2 },
  completion_tokens_details: { reasoning_tokens: 1 },
}

function chatText(body: Json): string {
  const format = body.response_format as Json | undefined
  if (format?.type === 'json_schema') return jsonReply((format.json_schema as Json | undefined)?.schema)
  if (format?.type === 'json_object') return jsonReply(undefined)
  return REPLY.openaiChat
}

export async function chat(res: ServerResponse, body: Json): Promise<void> {
  const model = `${String(body.model)}-2024`
  const msgs = (body.messages as Json[] | undefined) ?? []
  // Tools in the request make the model call one, unless a tool result is already last.
  const tool = msgs.at(-1)?.role === 'tool' ? undefined : pickTool(body.tools, body.tool_choice)
  const args = tool ? toolArguments(tool.parameters) : ''
  if (!body.stream) {
    const message = tool
      ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: tool.name, arguments: args } }] }
      : { role: 'assistant', content: chatText(body), refusal: null }
    return json(res, 200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: unixNow(),
      model,
      choices: [{ index: 0, message, finish_reason: tool ? 'tool_calls' : 'stop', logprobs: null }],
      usage: chatUsage,
    })
  }
  const send = sse(res)
  const base = { id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: unixNow(), model }
  const chunk = (delta: Json, finish: string | null = null) => send({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })
  chunk({ role: 'assistant', content: '' })
  if (isSlow(String(body.model))) {
    for (let i = 0; i < 200 && !res.destroyed; i++) {
      chunk({ content: `tok${i} ` })
      await sleep(10)
    }
  } else if (tool) {
    chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: tool.name, arguments: '' } }] })
    const half = Math.ceil(args.length / 2)
    for (const part of [args.slice(0, half), args.slice(half)]) chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] })
  } else {
    for (const piece of pieces(chatText(body))) {
      await sleep(2)
      chunk({ content: piece })
    }
  }
  if (res.destroyed) return
  chunk({}, tool ? 'tool_calls' : 'stop')
  if ((body.stream_options as Json | undefined)?.include_usage) send({ ...base, choices: [], usage: chatUsage })
  send('[DONE]')
  res.end()
}

// -------------------------------------------------------------------- responses

const responsesUsage = {
  input_tokens: 10,
  output_tokens: 3,
  total_tokens: 13,
  input_tokens_details: { cached_tokens: 4 },
  output_tokens_details: { reasoning_tokens: 2 },
}

function responsesText(body: Json): string {
  const format = (body.text as Json | undefined)?.format as Json | undefined
  if (format?.type === 'json_schema') return jsonReply(format.schema)
  if (format?.type === 'json_object') return jsonReply(undefined)
  return REPLY.openaiResponses
}

export async function responses(res: ServerResponse, body: Json): Promise<void> {
  const input = Array.isArray(body.input) ? (body.input as Json[]) : []
  const tool = input.at(-1)?.type === 'function_call_output' ? undefined : pickTool(body.tools, body.tool_choice)
  const text = responsesText(body)
  const item: Json = tool
    ? { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: tool.name, arguments: toolArguments(tool.parameters), status: 'completed' }
    : { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }
  const full = {
    id: 'resp_1',
    object: 'response',
    created_at: unixNow(),
    status: 'completed',
    error: null,
    incomplete_details: null,
    model: `${String(body.model)}-2024`,
    output: [item],
    usage: responsesUsage,
  }
  if (!body.stream) return json(res, 200, full)

  const send = sse(res)
  let seq = 0
  const ev = (type: string, data: Json) => send({ type, sequence_number: seq++, ...data }, type)
  const pending = { ...full, status: 'in_progress', output: [], usage: null }
  ev('response.created', { response: pending })
  ev('response.in_progress', { response: pending })
  if (tool) {
    const args = String(item.arguments)
    ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } })
    ev('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 0, delta: args })
    ev('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 0, arguments: args })
    ev('response.output_item.done', { output_index: 0, item })
  } else {
    const part = { item_id: 'msg_1', output_index: 0, content_index: 0 }
    ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } })
    ev('response.content_part.added', { ...part, part: { type: 'output_text', text: '', annotations: [] } })
    const deltas = isSlow(String(body.model)) ? Array.from({ length: 200 }, (_, i) => `tok${i} `) : text === REPLY.openaiResponses ? ['Responses ', 'hello'] : pieces(text)
    for (const delta of deltas) {
      if (res.destroyed) return
      await sleep(isSlow(String(body.model)) ? 10 : 2)
      ev('response.output_text.delta', { ...part, delta, logprobs: [] })
    }
    ev('response.output_text.done', { ...part, text, logprobs: [] })
    ev('response.content_part.done', { ...part, part: { type: 'output_text', text, annotations: [] } })
    ev('response.output_item.done', { output_index: 0, item })
  }
  ev('response.completed', { response: full })
  res.end()
}

// ------------------------------------------------------------------- embeddings

export function embeddings(res: ServerResponse, body: Json): void {
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')]
  const dimensions = typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.floor(body.dimensions) : 4
  const data = inputs.map((text, index) => {
    const vec = embed(text, dimensions)
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec
    return { object: 'embedding', index, embedding }
  })
  json(res, 200, { object: 'list', data, model: String(body.model ?? 'text-embedding-3-small'), usage: { prompt_tokens: 4 * inputs.length, total_tokens: 4 * inputs.length } })
}

export function models(res: ServerResponse): void {
  const data = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-llm' }))
  json(res, 200, { object: 'list', data })
}
