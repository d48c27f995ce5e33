// Turns stored prompt/completion text into something to render. Structured sources
// are stored as OpenTelemetry GenAI messages ({role, parts}); plain values verbatim.

export type Part =
  | { kind: 'text'; text: string }
  | { kind: 'tool_call'; name: string; id: string; args: unknown }
  | { kind: 'tool_result'; id: string; result: unknown }
  | { kind: 'json'; value: unknown }

export interface Message {
  role: string
  parts: Part[]
  finishReason?: string
}

export type Content = { kind: 'messages'; messages: Message[] } | { kind: 'json'; value: unknown } | { kind: 'text'; text: string } | { kind: 'empty' }

export function tryJson(s: string): unknown {
  const t = s.trim()
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined
  try {
    return JSON.parse(t)
  } catch {
    return undefined
  }
}

const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v))
/** Tool arguments often arrive as a JSON string: show them as the object they are. */
const value = (v: unknown): unknown => (typeof v === 'string' ? (tryJson(v) ?? v) : v)

function part(p: unknown): Part {
  if (typeof p === 'string') return { kind: 'text', text: p }
  if (!obj(p)) return { kind: 'json', value: p }
  const type = str(p.type)
  if (type === 'text' || type === 'reasoning' || (type === '' && ('content' in p || 'text' in p))) return { kind: 'text', text: str(p.content ?? p.text) }
  if (type === 'tool_call' || type === 'tool_use' || type === 'function_call') return { kind: 'tool_call', name: str(p.name), id: str(p.id), args: value(p.arguments ?? p.input) }
  if (type === 'tool_call_response' || type === 'tool_result') return { kind: 'tool_result', id: str(p.id ?? p.tool_use_id), result: value(p.response ?? p.result ?? p.content) }
  return { kind: 'json', value: p }
}

function message(m: Record<string, unknown>): Message {
  const parts: Part[] = []
  if (Array.isArray(m.parts)) parts.push(...m.parts.map(part))
  else if (typeof m.content === 'string') parts.push({ kind: 'text', text: m.content })
  else if (Array.isArray(m.content)) parts.push(...m.content.map(part))
  else if (m.content !== undefined && m.content !== null) parts.push({ kind: 'json', value: m.content })
  // OpenAI chat format: tool_calls beside the content
  if (Array.isArray(m.tool_calls)) {
    for (const c of m.tool_calls) {
      const f = obj(c) && obj(c.function) ? c.function : obj(c) ? c : {}
      parts.push({ kind: 'tool_call', name: str(f.name), id: obj(c) ? str(c.id) : '', args: value(f.arguments) })
    }
  }
  const msg: Message = { role: str(m.role) || 'message', parts }
  if (typeof m.finish_reason === 'string' && m.finish_reason) msg.finishReason = m.finish_reason
  return msg
}

const isMessage = (v: unknown): v is Record<string, unknown> => obj(v) && typeof v.role === 'string'

export function parseContent(raw: string | undefined): Content {
  if (raw === undefined || raw === '') return { kind: 'empty' }
  const json = tryJson(raw)
  if (json === undefined) return { kind: 'text', text: raw }
  if (Array.isArray(json) && json.length > 0 && json.every(isMessage)) return { kind: 'messages', messages: json.map(message) }
  if (obj(json) && Array.isArray(json.messages) && json.messages.every(isMessage)) return { kind: 'messages', messages: json.messages.map(message) }
  if (isMessage(json)) return { kind: 'messages', messages: [message(json)] }
  return { kind: 'json', value: json }
}
