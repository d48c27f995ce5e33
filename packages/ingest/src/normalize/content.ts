import type { AttrValue, Attrs, OtlpEvent, OtlpSpan } from '../otlp/model.js'
import { AttrReader, isObject, parseJson, readCount } from './attrs.js'
import { canonicalFinishReason, type Source } from './conventions.js'
import { CHOICE_EVENT, choiceFinishReason, DETAILS_EVENT, detailsFinishReason, eventBody, MESSAGE_EVENT, spanEventBody } from './genai-events.js'

/**
 * Prompt and completion content. Structured sources become one JSON array of
 * OpenTelemetry GenAI messages ({role, parts:[{type:'text',content}|{type:'tool_call',...}]})
 * so every convention renders the same way; plain values (input.value,
 * traceloop.entity.input, langfuse.observation.input, ...) are kept verbatim.
 */

interface Part {
  type: string
  content?: string
  id?: string
  name?: string
  arguments?: unknown
  response?: unknown
}
interface Message {
  role: string
  parts: Part[]
  finish_reason?: string
}

const json = (messages: Message[] | undefined): string | undefined =>
  messages && messages.length > 0 ? JSON.stringify(messages) : undefined

/**
 * What a content source made of a span: the stored text, and the attributes it carried
 * over whole, which the row holds there only (not a second time in `attributes`). An
 * attribute whose value the source could not use is never among them.
 */
export interface Content {
  text: string
  carried: readonly string[]
}

const NOTHING_CARRIED: readonly string[] = []
/** Content built from attributes that all stay in the attribute map. */
const built = (text: string | undefined): Content | undefined => (text === undefined ? undefined : { text, carried: NOTHING_CARRIED })

function text(content: string): Part {
  return { type: 'text', content }
}

/** Groups `prefix.{i}.rest` attributes by index: [{ rest: value }] in index order. */
function indexed(a: AttrReader, prefix: string): Array<Record<string, AttrValue>> {
  const groups = new Map<number, Record<string, AttrValue>>()
  for (const key in a.attrs) {
    if (!key.startsWith(prefix)) continue
    const rest = key.slice(prefix.length)
    const dot = rest.indexOf('.')
    if (dot <= 0) continue
    const idx = readCount(rest.slice(0, dot))
    if (idx === undefined) continue
    let g = groups.get(idx)
    if (!g) groups.set(idx, (g = {}))
    g[rest.slice(dot + 1)] = a.attrs[key] as AttrValue
  }
  return [...groups.entries()].sort((x, y) => x[0] - y[0]).map(([, g]) => g)
}

const s = (v: AttrValue | undefined): string | undefined => (typeof v === 'string' ? v : v == null ? undefined : JSON.stringify(v))

/** OpenLLMetry gen_ai.prompt.{i}.* / gen_ai.completion.{i}.* */
function traceloopMessages(a: AttrReader, prefix: string, defaultRole: string): Message[] | undefined {
  const groups = indexed(a, prefix)
  if (groups.length === 0) return undefined
  return groups.map((g) => {
    const parts: Part[] = []
    const content = s(g.content)
    if (content !== undefined && content !== '') parts.push(text(content))
    for (const call of indexedFromGroup(g, 'tool_calls.')) {
      parts.push({ type: 'tool_call', id: s(call.id), name: s(call.name), arguments: s(call.arguments) })
    }
    const msg: Message = { role: s(g.role) ?? defaultRole, parts }
    const fr = s(g.finish_reason)
    if (fr) msg.finish_reason = fr
    return msg
  })
}

function indexedFromGroup(g: Record<string, AttrValue>, prefix: string): Array<Record<string, AttrValue>> {
  const out = new Map<number, Record<string, AttrValue>>()
  for (const key in g) {
    if (!key.startsWith(prefix)) continue
    const rest = key.slice(prefix.length)
    const dot = rest.indexOf('.')
    const idx = readCount(rest.slice(0, dot))
    if (dot <= 0 || idx === undefined) continue
    let e = out.get(idx)
    if (!e) out.set(idx, (e = {}))
    e[rest.slice(dot + 1)] = g[key] as AttrValue
  }
  return [...out.entries()].sort((x, y) => x[0] - y[0]).map(([, e]) => e)
}

/** OpenInference llm.input_messages.{i}.message.* */
function openInferenceMessages(a: AttrReader, prefix: string): Message[] | undefined {
  const groups = indexed(a, prefix)
  if (groups.length === 0) return undefined
  return groups.map((g) => {
    const parts: Part[] = []
    const content = s(g['message.content'])
    if (content !== undefined && content !== '') parts.push(text(content))
    for (const c of indexedFromGroup(g, 'message.contents.')) {
      const t = s(c['message_content.text'])
      if (t) parts.push(text(t))
    }
    for (const call of indexedFromGroup(g, 'message.tool_calls.')) {
      parts.push({
        type: 'tool_call',
        id: s(call['tool_call.id']),
        name: s(call['tool_call.function.name']),
        arguments: s(call['tool_call.function.arguments']),
      })
    }
    const toolCallId = s(g['message.tool_call_id'])
    const role = s(g['message.role']) ?? 'user'
    if (role === 'tool' && toolCallId) {
      return { role, parts: [{ type: 'tool_call_response', id: toolCallId, response: content ?? '' }] }
    }
    return { role, parts }
  })
}

/**
 * Pre-1.37 semconv: one event per message (gen_ai.user.message, ..., gen_ai.choice),
 * as span events or as log records (`bodyOf` reads the event's body either way).
 * A message's tool calls become tool_call parts; a tool message answering a call
 * (its `id`) a tool_call_response part, as in every other convention.
 */
function eventMessages<E extends { name: string }>(events: readonly E[], bodyOf: (e: E) => Record<string, unknown>, output: boolean): Message[] | undefined {
  const out: Message[] = []
  for (const e of events) {
    const m = MESSAGE_EVENT.exec(e.name)
    if (!output && m) {
      const body = bodyOf(e)
      const role = typeof body.role === 'string' ? body.role : (m[1] as string)
      if (role === 'tool' && typeof body.id === 'string') {
        out.push({ role, parts: [{ type: 'tool_call_response', id: body.id, response: body.content ?? '' }] })
        continue
      }
      const msg: Message = { role, parts: contentParts(body.content) }
      addToolCalls(msg, body.tool_calls)
      out.push(msg)
    } else if (output && e.name === CHOICE_EVENT) {
      const body = bodyOf(e)
      const message = isObject(body.message) ? body.message : {}
      const msg: Message = { role: typeof message.role === 'string' ? message.role : 'assistant', parts: contentParts(message.content ?? body.content) }
      addToolCalls(msg, message.tool_calls)
      if (typeof body.finish_reason === 'string') msg.finish_reason = body.finish_reason
      out.push(msg)
    }
  }
  return out.length > 0 ? out : undefined
}

/** OpenAI-shaped tool calls ({id, function: {name, arguments}}) as tool_call parts. */
function addToolCalls(msg: Message, calls: unknown): void {
  if (!Array.isArray(calls)) return
  for (const call of calls as Array<Record<string, unknown>>) {
    const fn = (call?.function ?? {}) as Record<string, unknown>
    msg.parts.push({ type: 'tool_call', id: call?.id as string | undefined, name: fn.name as string | undefined, arguments: fn.arguments })
  }
}

function contentParts(content: unknown): Part[] {
  if (content === undefined || content === null || content === '') return []
  if (typeof content === 'string') return [text(content)]
  if (Array.isArray(content)) {
    return content.map((p) => {
      if (typeof p === 'string') return text(p)
      const o = (p ?? {}) as Record<string, unknown>
      if (typeof o.text === 'string') return text(o.text)
      if (o.type === 'tool-call' || o.type === 'tool_use') {
        return { type: 'tool_call', id: (o.toolCallId ?? o.id) as string | undefined, name: (o.toolName ?? o.name) as string | undefined, arguments: o.input ?? o.args }
      }
      if (o.type === 'tool-result' || o.type === 'tool_result') {
        return { type: 'tool_call_response', id: (o.toolCallId ?? o.tool_use_id) as string | undefined, response: o.output ?? o.result ?? o.content }
      }
      return { ...(o as unknown as Part), type: typeof o.type === "string" ? o.type : "unknown" }
    })
  }
  return [{ type: 'unknown', content: JSON.stringify(content) }]
}

/** Vercel AI SDK: ai.prompt.messages (JSON) or ai.prompt ({system, prompt, messages}). */
function vercelInput(a: AttrReader): Message[] | undefined {
  const rawMessages = a.str('ai.prompt.messages')
  const prompt = a.str('ai.prompt')
  const out: Message[] = []
  const fromList = (list: unknown): void => {
    if (!Array.isArray(list)) return
    for (const m of list) {
      // An entry that is no message (null, a string) is skipped; the attribute itself stays in the row.
      if (!isObject(m)) continue
      out.push({ role: typeof m.role === 'string' ? m.role : 'user', parts: contentParts(m.content) })
    }
  }
  if (rawMessages) {
    fromList(parseJson(rawMessages))
    return out.length > 0 ? out : undefined
  }
  if (!prompt) return undefined
  const p = parseJson(prompt)
  if (!p || typeof p !== 'object') return [{ role: 'user', parts: [text(prompt)] }]
  const o = p as Record<string, unknown>
  if (typeof o.system === 'string') out.push({ role: 'system', parts: [text(o.system)] })
  if (typeof o.prompt === 'string') out.push({ role: 'user', parts: [text(o.prompt)] })
  fromList(o.messages)
  return out.length > 0 ? out : undefined
}

function vercelOutput(a: AttrReader): string | undefined {
  const responseText = a.str('ai.response.text')
  const toolCalls = a.str('ai.response.toolCalls')
  const object = a.str('ai.response.object')
  if (responseText === undefined && toolCalls === undefined && object === undefined) return undefined
  const parts: Part[] = []
  if (responseText) parts.push(text(responseText))
  if (object) parts.push(text(object))
  const calls = toolCalls ? parseJson(toolCalls) : undefined
  if (Array.isArray(calls)) {
    for (const c of calls) {
      if (!isObject(c)) continue
      parts.push({ type: 'tool_call', id: c.toolCallId as string | undefined, name: c.toolName as string | undefined, arguments: c.input ?? c.args })
    }
  }
  const msg: Message = { role: 'assistant', parts }
  const fr = a.str('ai.response.finishReason')
  if (fr) msg.finish_reason = fr
  return JSON.stringify([msg])
}

const INPUT_MESSAGES = 'gen_ai.input.messages'
const SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions'
const OUTPUT_MESSAGES = 'gen_ai.output.messages'

/** An attribute's value, '' counting as absent. */
const present = (v: AttrValue | undefined): AttrValue | undefined => (v === '' ? undefined : v)
/** A string or structured attribute value as the text stored for it. */
const verbatim = (v: AttrValue | undefined): string | undefined => (v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v))

/**
 * gen_ai.input.messages with gen_ai.system_instructions folded in as a system message.
 * Without instructions the messages are kept as sent (no parse). With them the messages
 * must become a list: a list is spliced in, one message (an object with a role) is a
 * list of one, and a string that is not JSON text of either is what the user said. Any
 * other value is left in the attribute map: it is not carried, so it is not lost.
 */
function otelInput(a: AttrReader): Content | undefined {
  const messages = present(a.raw(INPUT_MESSAGES))
  const system = present(a.raw(SYSTEM_INSTRUCTIONS))
  if (system === undefined) {
    const sent = verbatim(messages)
    return sent === undefined ? undefined : { text: sent, carried: [INPUT_MESSAGES] }
  }
  const instructions = { role: 'system', parts: systemParts(system) }
  const list = messages === undefined ? undefined : messageList(messages)
  if (list === undefined) return { text: JSON.stringify([instructions]), carried: [SYSTEM_INSTRUCTIONS] }
  return { text: JSON.stringify([instructions, ...list]), carried: [INPUT_MESSAGES, SYSTEM_INSTRUCTIONS] }
}

const isMessage = (v: unknown): boolean => isObject(v) && typeof v.role === 'string'

/** gen_ai.input.messages as a list of messages, or undefined when it holds none that can be spliced in. */
function messageList(v: AttrValue): unknown[] | undefined {
  const parsed = typeof v === 'string' ? parseJson(v) : v
  if (Array.isArray(parsed)) return parsed
  if (isMessage(parsed)) return [parsed]
  if (typeof v === 'string' && (parsed === null || typeof parsed !== 'object')) return [{ role: 'user', parts: [text(v)] }]
  return undefined
}

/** gen_ai.system_instructions as the parts of one system message: a list of parts, one part, or text. */
function systemParts(v: AttrValue): unknown[] {
  const parsed = typeof v === 'string' ? parseJson(v) : v
  if (Array.isArray(parsed)) return parsed
  if (parsed !== null && typeof parsed === 'object') return [parsed]
  return [text(typeof v === 'string' ? v : String(v))]
}

function otelOutput(a: AttrReader): Content | undefined {
  const sent = verbatim(present(a.raw(OUTPUT_MESSAGES)))
  return sent === undefined ? undefined : { text: sent, carried: [OUTPUT_MESSAGES] }
}

/**
 * What one GenAI event on a span adds to its input or output, as its log record's
 * span_content row would: a per-message event's message, or the text a details
 * event's attributes give, read as a span's.
 */
function eventPiece(e: OtlpEvent, output: boolean): Message[] | string | undefined {
  if (e.name === DETAILS_EVENT) {
    const a = new AttrReader(e.attributes, {})
    return (output ? otelOutput(a) : otelInput(a))?.text
  }
  return eventMessages([e], spanEventBody, output)
}

/**
 * The GenAI events on a span, merged as the query merges the same events sent as log
 * records (packages/query content/span-content.ts): one event's content as it is,
 * several spliced into one list, where a details event's text that is not a list adds
 * nothing (it stays in the event's attributes). What they hold stays in the events'
 * attributes: nothing is carried.
 */
function spanEvents(span: OtlpSpan, output: boolean): Content | undefined {
  if (span.events.length === 0) return undefined
  const pieces: Array<Message[] | string> = []
  for (const e of span.events) {
    const piece = eventPiece(e, output)
    if (piece !== undefined) pieces.push(piece)
  }
  if (pieces.length === 0) return undefined
  const [only] = pieces
  if (pieces.length === 1) return built(typeof only === 'string' ? only : JSON.stringify(only))
  return built(JSON.stringify(pieces.flatMap((p) => (typeof p !== 'string' ? p : listOrNothing(parseJson(p))))))
}

const listOrNothing = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/**
 * The span's own gen_ai.input.messages and system instructions; when they give the
 * instructions alone, the conversation the span's GenAI events give, as the same events
 * sent as log records would (packages/query content/span-content.ts): the Responses API
 * puts the instructions on the span and the conversation, instructions first, in the
 * details event. The instructions then stay in the attribute map.
 */
function spanInput(a: AttrReader, span: OtlpSpan): Content | undefined {
  const own = otelInput(a)
  if (own === undefined || own.carried.length !== 1 || own.carried[0] !== SYSTEM_INSTRUCTIONS) return own
  return spanEvents(span, false) ?? own
}

/** An attribute kept whole as the content, whatever its value. */
const plain = (key: string, convention: string): Source<Content> => {
  const carried = [key]
  return {
    convention,
    consumes: carried,
    read: (a) => {
      const sent = verbatim(present(a.raw(key)))
      return sent === undefined ? undefined : { text: sent, carried }
    },
  }
}

export const INPUT: Array<Source<Content>> = [
  { convention: 'otel', read: spanInput, consumes: [INPUT_MESSAGES, SYSTEM_INSTRUCTIONS] },
  { convention: 'openllmetry', read: (a) => built(json(traceloopMessages(a, 'gen_ai.prompt.', 'user'))) },
  { convention: 'openinference', read: (a) => built(json(openInferenceMessages(a, 'llm.input_messages.'))) },
  { convention: 'otel', read: (_a, span) => spanEvents(span, false) },
  { convention: 'vercel', read: (a) => built(json(vercelInput(a))) },
  plain('langfuse.observation.input', 'langfuse'),
  plain('input.value', 'openinference'),
  plain('traceloop.entity.input', 'openllmetry'),
  plain('gen_ai.prompt', 'otel'),
  plain('gen_ai.tool.call.arguments', 'otel'),
  plain('ai.toolCall.args', 'vercel'),
  plain('ai.toolCall.input', 'vercel'),
  plain('ai.value', 'vercel'),
  plain('ai.values', 'vercel'),
]

export const OUTPUT: Array<Source<Content>> = [
  { convention: 'otel', read: otelOutput, consumes: [OUTPUT_MESSAGES] },
  { convention: 'openllmetry', read: (a) => built(json(traceloopMessages(a, 'gen_ai.completion.', 'assistant'))) },
  { convention: 'openinference', read: (a) => built(json(openInferenceMessages(a, 'llm.output_messages.'))) },
  { convention: 'otel', read: (_a, span) => spanEvents(span, true) },
  { convention: 'vercel', read: (a) => built(vercelOutput(a)) },
  plain('langfuse.observation.output', 'langfuse'),
  plain('output.value', 'openinference'),
  plain('traceloop.entity.output', 'openllmetry'),
  plain('gen_ai.completion', 'otel'),
  plain('gen_ai.tool.call.result', 'otel'),
  plain('ai.toolCall.result', 'vercel'),
  plain('ai.toolCall.output', 'vercel'),
]

/** A GenAI log record's content, in the span's own terms: what it adds to its span's input, output and finish reason. */
export interface EventContent {
  input: string | undefined
  output: string | undefined
  /** Canonical (conventions.ts), '' when the record says none. */
  finishReason: string
}

/**
 * The content of one GenAI log record (genai-events.ts `isContentEvent`), made by the
 * same code that reads it off a span: the newer details event's `gen_ai.input.messages`,
 * `gen_ai.output.messages` and `gen_ai.system_instructions` attributes as otelInput /
 * otelOutput read a span's, the older per-message events' bodies as eventMessages
 * reads span events. So content that arrives as logs ends in the same message JSON.
 */
export function eventContent(name: string, body: AttrValue, attributes: Attrs): EventContent {
  if (name === DETAILS_EVENT) {
    const a = new AttrReader(attributes, {})
    return { input: otelInput(a)?.text, output: otelOutput(a)?.text, finishReason: canonicalFinishReason(detailsFinishReason(attributes) ?? '') }
  }
  const record = eventBody(body)
  const event = [{ name }]
  const finish = name === CHOICE_EVENT ? choiceFinishReason(record) : undefined
  return { input: json(eventMessages(event, () => record, false)), output: json(eventMessages(event, () => record, true)), finishReason: canonicalFinishReason(finish ?? '') }
}
