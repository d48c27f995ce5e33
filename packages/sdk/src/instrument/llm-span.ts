import { context, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api'
import { ATTR, type SpanKindName } from '../attributes.js'
import { toJson } from '../content.js'
import { diag } from '../diag.js'
import type { Runtime } from '../runtime.js'

/**
 * One traced provider call. Owns its span and guarantees it ends exactly once,
 * whichever of success, provider error, stream abort or our own bug comes first.
 */
export class LlmCall {
  readonly span: Span
  readonly ctx: Context
  readonly capture: boolean
  private readonly maxLen: number
  private readonly startedAt = performance.now()
  private firstChunkAt: number | undefined
  private ended = false

  constructor(rt: Runtime, name: string, kind: SpanKindName, attributes: Attributes) {
    const parent = context.active()
    this.span = rt.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: { ...attributes, [ATTR.kind]: kind } }, parent)
    this.ctx = trace.setSpan(parent, this.span)
    this.capture = rt.config.captureContent
    this.maxLen = rt.config.maxContentLength
  }

  /** Sets a content attribute (JSON), only when content capture is on. */
  content(key: string, value: unknown): void {
    if (this.capture && value !== undefined) this.span.setAttribute(key, toJson(value, this.maxLen))
  }

  markFirstChunk(): void {
    if (this.firstChunkAt === undefined) {
      this.firstChunkAt = performance.now()
      this.span.setAttribute(ATTR.ttft, (this.firstChunkAt - this.startedAt) / 1000)
    }
  }

  /** Ends OK after `record` sets response attributes; a throwing `record` still ends the span. */
  succeed(record: () => void): void {
    if (this.ended) return
    this.ended = true
    try {
      record()
    } catch (err) {
      diag.instrumentationError('response recording', err)
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
  if (typeof value === 'string' ? value.length > 0 : typeof value === 'number' ? Number.isFinite(value) : typeof value === 'boolean') {
    attrs[key] = value as string | number | boolean
  } else if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    attrs[key] = value as string[]
  }
}
