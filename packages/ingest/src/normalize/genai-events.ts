import type { AttrValue, Attrs, OtlpEvent } from '../otlp/model.js'
import { AttrReader, isObject, parseJson } from './attrs.js'

/**
 * GenAI events, which a library either puts on its span as span events or sends as
 * OTLP log records tied to the span: their names, their bodies, and the finish reason
 * they report. Both paths read an event through these, so one event gives its span the
 * same input, output and finish reason whichever way it came (content.ts makes the
 * messages; conventions.ts, for span events, and content.ts's eventContent, for log
 * records, take the finish reason).
 */

/** Pre-1.37 semconv: one event per input message... */
export const MESSAGE_EVENT = /^gen_ai\.(system|user|assistant|tool)\.message$/
/** ...and one per choice of the output. */
export const CHOICE_EVENT = 'gen_ai.choice'
/** The newer semconv's details event: its attributes hold the conversation, read as a span's. */
export const DETAILS_EVENT = 'gen_ai.client.inference.operation.details'

/** Whether an event's content belongs to its span. */
export function isContentEvent(name: string): boolean {
  return name === DETAILS_EVENT || name === CHOICE_EVENT || MESSAGE_EVENT.test(name)
}

/**
 * A per-message event's body. As a log record it is the record's body: a kvlist is the
 * object, a string is JSON text of one or the content itself, any other value the
 * content. On a span it is the JSON
 * of the event's `gen_ai.event.content` attribute where older instrumentations put it,
 * else the event's attributes, which hold the body's fields; those flatten a choice's
 * `message` into JSON text, read here as the object it was (or as its content).
 */
export function eventBody(body: AttrValue | undefined): Record<string, unknown> {
  if (body === undefined || body === null) return {}
  let out: Record<string, unknown>
  if (isObject(body)) out = body
  else if (typeof body === 'string') {
    const parsed = parseJson(body)
    out = isObject(parsed) ? parsed : { content: body }
  } else out = { content: body }
  if (typeof out.message !== 'string') return out
  const message = parseJson(out.message)
  return { ...out, message: isObject(message) ? message : { content: out.message } }
}

export const spanEventBody = (e: OtlpEvent): Record<string, unknown> => {
  const content = e.attributes['gen_ai.event.content']
  return eventBody(typeof content === 'string' ? content : e.attributes)
}

/** The finish reason a choice event's body gives, as sent; undefined for none. */
export function choiceFinishReason(body: Record<string, unknown>): string | undefined {
  return typeof body.finish_reason === 'string' && body.finish_reason !== '' ? body.finish_reason : undefined
}

/** A details event's finish reason, as sent: its first output message's, else the first of gen_ai.response.finish_reasons. */
export function detailsFinishReason(attributes: Attrs): string | undefined {
  return messagesFinishReason(attributes['gen_ai.output.messages']) ?? new AttrReader(attributes, {}).strList('gen_ai.response.finish_reasons')?.find((x) => x !== '')
}

/** The first finish reason among output messages (a list, or JSON text of one). */
export function messagesFinishReason(messages: AttrValue | undefined): string | undefined {
  const list = typeof messages === 'string' ? parseJson(messages) : messages
  if (!Array.isArray(list)) return undefined
  for (const m of list) if (isObject(m) && typeof m.finish_reason === 'string' && m.finish_reason !== '') return m.finish_reason
  return undefined
}

/** The finish reason a span's own GenAI events give: the first of its choice or details events to name one, as a log record of each would. */
export function spanEventsFinishReason(events: readonly OtlpEvent[]): string | undefined {
  for (const e of events) {
    const reason = e.name === CHOICE_EVENT ? choiceFinishReason(spanEventBody(e)) : e.name === DETAILS_EVENT ? detailsFinishReason(e.attributes) : undefined
    if (reason !== undefined) return reason
  }
  return undefined
}
