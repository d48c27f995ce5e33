import { context, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api'
import { ATTR, type SpanKindName } from '../attributes.js'
import { toJson, type Message, type Part } from '../content.js'
import { deferContent } from '../lazy-content.js'
import { diag } from '../diag.js'
import type { Runtime } from '../runtime.js'

/**
 * One traced provider call. Owns its span and guarantees it ends exactly once,
 * whichever of success, provider error, stream abort or our own bug comes first.
 */
export class LlmCall {
  readonly span: Span
  private readonly parent: Context
  private readonly capture: boolean
  private readonly defer: boolean
  private readonly maxLen: number
  private readonly startedAt = performance.now()
  private firstChunkAt: number | undefined
  private ended = false

  /** `attributes` becomes the span's (with the kind added): pass a fresh object. */
  constructor(rt: Runtime, name: string, kind: SpanKindName, attributes: Attributes) {
    this.parent = context.active()
    attributes[ATTR.kind] = kind
    this.span = rt.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, this.parent)
    this.capture = rt.config.captureContent
    this.defer = rt.deferContent
    this.maxLen = rt.config.maxContentLength
  }

  /** The context with this call's span active, for what runs inside the provider call. */
  context(): Context {
    return trace.setSpan(this.parent, this.span)
  }

  /** Sets a content attribute (JSON), only when content capture is on. */
  content(key: string, value: unknown): void {
    if (this.capture && value !== undefined) this.span.setAttribute(key, toJson(value, this.maxLen))
  }

  /**
   * Same for messages the SDK built from the payload: their JSON is written at
   * export, off the call, when that cannot change what is recorded (lazy-content.ts).
   */
  messages(key: string, value: Message[] | Part[] | undefined): void {
    if (!this.capture || value === undefined) return
    if (!this.defer || !deferContent(this.span, key, value, this.maxLen)) this.span.setAttribute(key, toJson(value, this.maxLen))
  }

  markFirstChunk(): void {
    if (this.firstChunkAt === undefined) {
      this.firstChunkAt = performance.now()
      this.span.setAttribute(ATTR.ttft, (this.firstChunkAt - this.startedAt) / 1000)
    }
  }

  /** Ends OK after `record(this, arg)` sets response attributes; a throwing `record` still ends the span. */
  succeed<A>(record: ((call: LlmCall, arg: A) => void) | undefined, arg: A): void {
    if (this.ended) return
    this.ended = true
    if (record) {
      try {
        record(this, arg)
      } catch (err) {
        diag.instrumentationError('response recording', err)
      }
    }
    this.span.end()
  }

  fail(err: unknown): void {
    if (this.ended) return
    this.ended = true
    try {
      recordError(this.span, err)
    } catch (e) {
      diag.instrumentationError('error recording', e)
    }
    this.span.end()
  }

  /** A stream the consumer stopped early (break, abort) is an error: the completion is partial. */
  abort(record: () => void, reason: string): void {
    if (this.ended) return
    this.ended = true
    try {
      record()
      this.span.setAttribute(ATTR.errorType, 'aborted')
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: reason })
    } catch (e) {
      diag.instrumentationError('abort recording', e)
    }
    this.span.end()
  }
}

export function recordError(span: Span, err: unknown): void {
  const e = err as { name?: unknown; message?: unknown; status?: unknown; constructor?: { name?: string } } | undefined
  const type =
    (typeof e?.constructor?.name === 'string' && e.constructor.name !== 'Object' ? e.constructor.name : undefined) ??
    (typeof e?.name === 'string' ? e.name : '_OTHER')
  span.setAttribute(ATTR.errorType, type)
  if (typeof e?.status === 'number') span.setAttribute('http.response.status_code', e.status)
  if (err instanceof Error) span.recordException(err)
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message : String(err) })
}

/** Adds an attribute only when the value is a usable primitive; keeps spans free of `undefined`s. */
export function setIf(attrs: Attributes, key: string, value: unknown): void {
  // Most request parameters are absent: leave first.
  if (value === undefined) return
  if (typeof value === 'string' ? value.length > 0 : typeof value === 'number' ? Number.isFinite(value) : typeof value === 'boolean') {
    attrs[key] = value as string | number | boolean
  } else if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    attrs[key] = value as string[]
  }
}
