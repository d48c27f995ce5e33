/**
 * Provider payloads → the GenAI semconv "parts" message format
 * ({role, parts:[{type:'text',content}|{type:'tool_call',...}|...], finish_reason?}),
 * serialized as JSON strings. Inputs are `unknown`: a malformed payload yields
 * fewer parts, never an exception (callers still guard).
 */

import { boundedJson, type BoundedJson } from './json-bounded.js'
import { BOUNDARY_SCAN, cutMarked } from './redact-cut.js'

export type Part = Record<string, unknown> & { type: string }
export interface Message {
  role: string
  parts: Part[]
  finish_reason?: string
}

export type Obj = Record<string, unknown>
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/**
 * JSON for the content attribute `key` (a string as it is), cut at `max` characters and marked (a cut
 * value is no longer valid JSON, on purpose visible). Only what the cut keeps is serialized and redacted,
 * with what a secret the cut splits needs (redact-cut.ts): redacted only at export, after the cut, an
 * email the cut split in two was no longer an email, and its first part ("reach me at robert.…") left
 * the process. `more`: `value` is only the start of the content (a string, or a streamed completion whose
 * text was cut as it streamed): the marker says `more than`. `whole`: serialized with
 * JSON.stringify, not as far as the cut reads: an LLM request or response, which its client serialized
 * or parsed whole, so the app already pays for its size (json-bounded.ts's size walk was 0.3–0.6 µs of
 * a plain call's ~20, bench/sdk/RESULTS.md session 24).
 */
export function toJson(value: unknown, max: number, key = '', redact?: (key: string, value: string) => string, more = false, whole = false): string {
  if (typeof value === 'string') return value.length <= max && !more ? value : cutMarked(value, max, stepFor(key, redact), more)
  let json: BoundedJson
  try {
    json = whole ? { text: JSON.stringify(value) ?? 'null', complete: true } : (boundedJson(value, readLimit(max)) ?? { text: 'null', complete: true })
  } catch {
    try {
      // A bigint: JSON.stringify refuses it, the bounded writer spells it.
      json = boundedJson(value, readLimit(max)) ?? { text: 'null', complete: true }
    } catch {
      json = { text: '"[unserializable]"', complete: true }
    }
  }
  if (json.complete && !more && json.text.length <= max) return json.text
  return cutMarked(json.text, max, stepFor(key, redact), more || !json.complete)
}

/** The redaction of a cut of `key`'s value; made only for a cut, not for every value. */
function stepFor(key: string, redact: ((key: string, value: string) => string) | undefined): ((value: string) => string) | undefined {
  return redact && ((v) => redact(key, v))
}

/** How much of a value's JSON to write for a cut at `max`: what the cut reads of it, twice, for what redaction shrinks. */
export function readLimit(max: number): number {
  return 2 * (max + BOUNDARY_SCAN)
}

/**
 * A copy of plain data (arrays and plain objects) `depth` levels deep; deeper
 * values and everything else (class instances, typed arrays) are shared.
 * Requests and responses are recorded after the call (llm-span.ts): this is
 * what recording reads of them, as they were.
 */
export function copyData(v: unknown, depth: number): unknown {
  if (depth <= 0 || typeof v !== 'object' || v === null) return v
  // Runs on the call path (the request as it starts, the response before the app gets it): leaves are
  // not passed to a call of their own.
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length)
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i]
      out[i] = depth > 1 && typeof x === 'object' && x !== null ? copyData(x, depth - 1) : x
    }
    return out
  }
  const proto: unknown = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return v
  // An object spread (one clone of the source's shape), then only object-valued properties replaced by
  // their copies. Timed in the app's process (real HTTP, between the client's own calls), a chat
  // request's copy took 3.5–3.7 µs this way against 4.1–4.2 building it key by key with for-in (medians
  // of two runs); in a hot loop both take ~0.27 µs: on the call path, code that runs once per call is cold.
  const out: Obj = { ...(v as Obj) }
  if (depth > 1) {
    for (const k of Object.keys(out)) {
      const x = out[k]
      if (typeof x !== 'object' || x === null) continue
      // An own "__proto__" key (JSON.parse makes one) stays a property: assigned, it would set the prototype.
      if (k === '__proto__') Object.defineProperty(out, k, { value: copyData(x, depth - 1), enumerable: true, writable: true, configurable: true })
      else out[k] = copyData(x, depth - 1)
    }
  }
  return out
}

/** Tool call arguments arrive as JSON text; the parts format wants the object when it parses. */
export function parseArgs(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

// ---------------------------------------------------------------- OpenAI chat

// Loops rather than filter/map chains: these run on every traced call.
export function openaiChatInput(messages: unknown): Message[] {
  const out: Message[] = []
  if (!Array.isArray(messages)) return out
  for (const m of messages) {
    if (!isObj(m)) continue
    const role = str(m.role) ?? 'user'
    if (role === 'tool') {
      out.push({ role, parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: contentText(m.content) }] })
      continue
    }
    const parts = openaiContentParts(m.content)
    if (m.tool_calls !== undefined) for (const call of arr(m.tool_calls)) if (isObj(call)) parts.push(openaiToolCall(call))
    out.push({ role, parts })
  }
  return out
}

export function openaiChatOutput(choices: unknown): Message[] {
  const out: Message[] = []
  if (!Array.isArray(choices)) return out
  for (const c of choices) {
    if (!isObj(c)) continue
    const msg = isObj(c.message) ? c.message : {}
    const parts = openaiContentParts(msg.content)
    if (typeof msg.refusal === 'string') parts.push({ type: 'refusal', content: msg.refusal })
    if (msg.tool_calls !== undefined) for (const call of arr(msg.tool_calls)) if (isObj(call)) parts.push(openaiToolCall(call))
    const m: Message = { role: str(msg.role) ?? 'assistant', parts }
    if (typeof c.finish_reason === 'string') m.finish_reason = c.finish_reason
    out.push(m)
  }
  return out
}

function openaiToolCall(call: Obj): Part {
  const fn = isObj(call.function) ? call.function : isObj(call.custom) ? call.custom : {}
  return { type: 'tool_call', id: call.id, name: fn.name, arguments: parseArgs(fn.arguments ?? fn.input) }
}

function openaiContentParts(content: unknown): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  const parts: Part[] = []
  for (const p of arr(content).filter(isObj)) {
    const type = str(p.type)
    if (type === 'text' || type === 'input_text' || type === 'output_text') parts.push({ type: 'text', content: p.text })
    else if (type === 'image_url' && isObj(p.image_url)) parts.push({ type: 'uri', modality: 'image', uri: p.image_url.url })
    else if (type === 'input_image') parts.push({ type: 'uri', modality: 'image', uri: p.image_url ?? p.file_id })
    else if (type === 'refusal') parts.push({ type: 'refusal', content: p.refusal })
    else if (type) parts.push({ type })
  }
  return parts
}

function contentText(content: unknown): unknown {
  if (typeof content === 'string') return content
  const texts = arr(content).filter(isObj).map((p) => p.text).filter((t) => typeof t === 'string')
  return texts.length ? texts.join('') : content
}

// ------------------------------------------------------------ OpenAI Responses

export function responsesInput(input: unknown): Message[] {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }]
  const out: Message[] = []
  for (const item of arr(input).filter(isObj)) {
    const type = str(item.type)
    if (type === 'function_call') {
      out.push({ role: 'assistant', parts: [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: parseArgs(item.arguments) }] })
    } else if (type === 'function_call_output') {
      out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: item.call_id, response: item.output }] })
    } else if (type === undefined || type === 'message') {
      out.push({ role: str(item.role) ?? 'user', parts: openaiContentParts(item.content) })
    }
  }
  return out
}

export function responsesOutput(output: unknown, status?: string): Message[] {
  const parts: Part[] = []
  for (const item of arr(output).filter(isObj)) {
    const type = str(item.type)
    if (type === 'message') parts.push(...openaiContentParts(item.content))
    else if (type === 'function_call') parts.push({ type: 'tool_call', id: item.call_id, name: item.name, arguments: parseArgs(item.arguments) })
    else if (type === 'reasoning') {
      const text = arr(item.summary).filter(isObj).map((s) => s.text).filter((t) => typeof t === 'string').join('\n')
      if (text) parts.push({ type: 'reasoning', content: text })
    } else if (type) parts.push({ type })
  }
  const msg: Message = { role: 'assistant', parts }
  if (status) msg.finish_reason = status
  return [msg]
}

// ------------------------------------------------------------------ Anthropic

export function anthropicMessages(messages: unknown): Message[] {
  return arr(messages).filter(isObj).map((m) => ({ role: str(m.role) ?? 'user', parts: anthropicParts(m.content) }))
}

export function anthropicSystem(system: unknown): Part[] | undefined {
  if (system === undefined || system === null) return undefined
  if (typeof system === 'string') return [{ type: 'text', content: system }]
  return anthropicParts(system)
}

export function anthropicParts(content: unknown): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  const parts: Part[] = []
  for (const b of arr(content).filter(isObj)) {
    switch (b.type) {
      case 'text':
        parts.push({ type: 'text', content: b.text })
        break
      case 'tool_use':
      case 'server_tool_use':
        parts.push({ type: 'tool_call', id: b.id, name: b.name, arguments: b.input })
        break
      case 'tool_result':
        parts.push({ type: 'tool_call_response', id: b.tool_use_id, response: contentText(b.content) })
        break
      case 'thinking':
        parts.push({ type: 'reasoning', content: b.thinking })
        break
      case 'image':
        parts.push({ type: 'blob', modality: 'image', mime_type: isObj(b.source) ? b.source.media_type : undefined })
        break
      default:
        if (typeof b.type === 'string') parts.push({ type: b.type })
    }
  }
  return parts
}
