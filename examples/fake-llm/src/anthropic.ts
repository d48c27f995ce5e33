import type { ServerResponse } from 'node:http'
import { json, sleep, sse, type Json } from './http.js'
import { isSlow, REPLY, toolArguments } from './model.js'

/** Anthropic wire format: messages, plain and SSE, with tool use and errors. */

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
}

export function anthropicError(res: ServerResponse, status: number, message = `fake ${status}`): void {
  json(res, status, { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[status] ?? 'api_error', message } })
}

/** The tool the fake model calls: the one `tool_choice` names, else the request's first. */
function pickTool(body: Json): { name: string; input: string } | undefined {
  const tools = body.tools
  const last = ((body.messages as Json[] | undefined) ?? []).at(-1)
  const answered = Array.isArray(last?.content) && (last.content as Json[]).some((b) => b.type === 'tool_result')
  const choice = body.tool_choice as Json | undefined
  if (!Array.isArray(tools) || tools.length === 0 || answered || choice?.type === 'none') return undefined
  const list = tools as Json[]
  const t = list.find((x) => x.name === choice?.name) ?? list[0]!
  return { name: String(t.name ?? 'get_weather'), input: toolArguments(t.input_schema) }
}

const usage = { input_tokens: 20, output_tokens: 6, cache_read_input_tokens: 5, cache_creation_input_tokens: 3 }

export async function messages(res: ServerResponse, body: Json): Promise<void> {
  const model = `${String(body.model)}-20250101`
  const tool = pickTool(body)
  if (!body.stream) {
    const content: Json[] = [{ type: 'text', text: REPLY.anthropic }]
    if (tool) content.push({ type: 'tool_use', id: 'toolu_1', name: tool.name, input: JSON.parse(tool.input) as unknown })
    return json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', model, content, stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null, usage })
  }
  const send = sse(res)
  const ev = (type: string, data: Json) => send({ type, ...data }, type)
  ev('message_start', { message: { id: 'msg_s1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } })
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
  const slow = isSlow(String(body.model))
  const texts = slow ? Array.from({ length: 200 }, (_, i) => `tok${i} `) : ['Hello ', 'from ', 'Claude']
  for (const text of texts) {
    if (res.destroyed) return
    await sleep(slow ? 10 : 2)
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })
  }
  ev('content_block_stop', { index: 0 })
  if (tool) {
    const half = Math.ceil(tool.input.length / 2)
    ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: tool.name, input: {} } })
    for (const partial_json of [tool.input.slice(0, half), tool.input.slice(half)]) ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json } })
    ev('content_block_stop', { index: 1 })
  }
  ev('message_delta', { delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } })
  ev('message_stop', {})
  res.end()
}
