import { context, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Span, type TimeInput } from '@opentelemetry/api'
import { ATTR, type SpanKindName } from '../attributes.js'
import { copyData, readLimit, type Message, type Obj, type Part } from '../content.js'
import { diag } from '../diag.js'
import type { Runtime } from '../runtime.js'
import type { SpanWriter } from './span-record.js'
import { StreamText } from './stream-text.js'
import { hrTimeAt, spanClock } from '../trace/time.js'

/** Names the span and records the request on it: `begin`, then `set`/`messages`/`content`. */
type Describe = (call: LlmCall, params: Obj) => void

/** What a call reads of its operation (traced.ts's Operation): whom it calls and how to describe the request. */
export interface Describer {
  /** `gen_ai.provider.name` on the span (set by `begin`), and the name diagnostics give the call's failures. */
  readonly provider: string
  readonly describe: Describe
}

/**
 * How deep a standalone call copies its request, so that what the app does to
 * it after the call never shows: the request → its messages (and tools) → each
 * message → its parts (tool calls) → each part. Deeper values (a part's image
 * object, a tool's JSON schema) are shared, as apps build them once and do not
 * change them; strings are immutable.
 */
const REQUEST_DEPTH = 5

const OPEN = 0
const OK = 1
const FAILED = 2
const ABORTED = 3

/**
 * One traced provider call. Owns its span and guarantees it ends exactly once,
 * whichever of success, provider error, stream abort or our own bug comes first.
 *
 * What is recorded is the request as sent and the response as returned: each
 * is recorded, or copied for later, before the app's code can change it (the
 * request when the call starts, the response before the app gets it).
 *
 * When that work runs depends on who can see the span:
 *  - Attached to the app's provider, the span starts with the call: the app's
 *    own instrumentation (its HTTP client's spans) parents on it, and the app's
 *    processors may read it. Everything happens in line.
 *  - On our own provider nothing can parent on it (the call does not even enter
 *    its context), so the call path only notes times and copies: the request
 *    (REQUEST_DEPTH levels of it) and what recording reads of the response (see
 *    Operation.keep). Describing the request, recording the response and
 *    writing the span run after the call, batched with the calls that ended
 *    meanwhile (init.ts, soon-batch.ts), with the times noted during the call.
 */
export class LlmCall {
  /** Attached mode: the live span from the start. Standalone: built by finish(). */
  private span: Span | undefined
  private readonly parent: Context
  private readonly startedAt = performance.now()
  /**
   * The SDK clock's offset (trace/time.ts) when the call started and ended. The span is written up to
   * ENDS_DELAY_MS later, and the offset read then had moved (it follows Date.now()): the call's times
   * shifted by it, tens of microseconds, past the end of its parent or the start of the next step.
   */
  private readonly startOffset = spanClock.current()
  private endOffset = 0
  private firstChunkAt: number | undefined
  private endedAt = 0
  private state = OPEN
  private finished = false
  /** Standalone, until described: the copy of the request. */
  private params: Obj | undefined
  /** Standalone: the span to be. */
  private name = ''
  private attrs: Attributes | undefined
  /** OK, ABORTED: records the response (or the partial stream) on the span. */
  private record: ((call: LlmCall, arg: unknown) => void) | undefined
  /** OK: the record's argument; FAILED: the error; ABORTED: the reason. */
  private outcome: unknown

  constructor(
    private readonly rt: Runtime,
    private readonly op: Describer,
    params: Obj,
  ) {
    this.parent = context.active()
    if (rt.mode === 'attached') {
      try {
        op.describe(this, params)
      } catch (err) {
        this.span?.end()
        throw err
      }
      if (!this.span) throw new Error('describe did not begin the span')
    } else {
      // Described after the call, with the response and the calls that ended meanwhile: a copy here
      // costs less than a turn of the event loop per call, run inside the call's wait, to describe it.
      this.params = copyData(params, REQUEST_DEPTH) as Obj
    }
  }

  /** The first thing a Describe does. `attributes` becomes the span's (with its kind and provider): pass a fresh object. */
  begin(name: string, kind: SpanKindName, attributes: Attributes): void {
    attributes[ATTR.kind] = kind
    attributes[ATTR.provider] = this.op.provider
    if (this.rt.mode === 'attached') {
      // Started now, timed by the Span's own clock: an app's processors may adjust it (the demo backdates spans).
      this.span = this.rt.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, this.parent)
    } else {
      this.name = name
      this.attrs = attributes
    }
  }

  /** The context with this call's span active, for what runs inside the provider call (attached mode). */
  context(): Context {
    return this.span ? trace.setSpan(this.parent, this.span) : this.parent
  }

  set(attributes: Attributes): void {
    if (this.span) this.span.setAttributes(attributes)
    else if (this.attrs) Object.assign(this.attrs, attributes)
  }

  /**
   * One attribute, as `set` with setIf: only a usable value. Written straight onto the span or the span to
   * be, where `set` takes an object that is then copied (a response's seven attributes: an object, its
   * property store grown twice, and Object.assign, per call).
   */
  setIf(key: string, value: unknown): void {
    if (usable(value)) this.setOne(key, value)
  }

  /** Sets a content attribute (JSON), only when content capture is on; `more`: only the start of the content (Runtime.payload). */
  content(key: string, value: unknown, more = false): void {
    if (this.rt.config.captureContent && value !== undefined) this.setOne(key, this.rt.payload(key, value, more))
  }

  /** Same for messages the SDK built from the payload; `cut`: from a stream whose text was cut (streamText). */
  messages(key: string, value: Message[] | Part[] | undefined, cut = false): void {
    this.content(key, value, cut)
  }

  /** What a streamed response keeps of its text: what recording will read of it, nothing when content is not captured. */
  streamText(): StreamText {
    return new StreamText(this.rt.config.captureContent ? readLimit(this.rt.config.maxContentLength) : 0)
  }

  private setOne(key: string, value: string | number | boolean | string[]): void {
    if (this.span) this.span.setAttribute(key, value)
    else if (this.attrs) this.attrs[key] = value
  }

  markFirstChunk(): void {
    this.firstChunkAt ??= performance.now()
  }

  /** Ends OK; `record(this, arg)` sets the response attributes (a throwing `record` still ends the span). */
  succeed<A>(record: ((call: LlmCall, arg: A) => void) | undefined, arg: A): void {
    if (this.state !== OPEN) return
    this.close(OK, record as LlmCall['record'], arg)
  }

  fail(err: unknown): void {
    if (this.state !== OPEN) return
    this.close(FAILED, undefined, err)
  }

  /** A stream the consumer stopped early (break, abort) is an error: the completion is partial. */
  abort(record: () => void, reason: string): void {
    if (this.state !== OPEN) return
    this.close(ABORTED, record, reason)
  }

  private close(state: number, record: LlmCall['record'], outcome: unknown): void {
    this.endedAt = performance.now()
    this.endOffset = spanClock.current()
    this.state = state
    this.record = record
    this.outcome = outcome
    if (this.span) this.finish()
    else this.rt.ends.push(this)
  }

  private runDescribe(): void {
    const params = this.params
    if (!params) return
    this.params = undefined
    try {
      this.op.describe(this, params)
    } catch (err) {
      diag.instrumentationError(`${this.op.provider} request recording`, err)
    }
  }

  /** Describes the request if due; once the call ended, records the outcome and ends the span at the recorded time. Never throws. */
  finish(): void {
    this.runDescribe()
    if (this.state === OPEN || this.finished) return
    this.finished = true
    if (this.record) {
      try {
        this.record(this, this.state === OK ? this.outcome : undefined)
      } catch (err) {
        diag.instrumentationError(`${this.op.provider} response recording`, err)
      }
      this.record = undefined
    }
    let span = this.span
    // A span built here (standalone) gets the call's own times; a live one ends now, on its own clock.
    const at = span ? undefined : hrTimeAt(this.endedAt + this.endOffset)
    if (!span && this.state === OK && this.attrs && this.rt.spanWriter && this.writeRecord(this.rt.spanWriter, this.attrs)) return
    try {
      if (!span) {
        // A request that could not be described (diag counted it) gets no span.
        if (!this.attrs) return
        span = this.rt.tracer.startSpan(this.name, { kind: SpanKind.CLIENT, attributes: this.attrs, startTime: hrTimeAt(this.startedAt + this.startOffset) }, this.parent)
      }
      if (this.firstChunkAt !== undefined) span.setAttribute(ATTR.ttft, (this.firstChunkAt - this.startedAt) / 1000)
      if (this.state === FAILED) recordError(span, this.outcome, at)
      else if (this.state === ABORTED) {
        span.setAttribute(ATTR.errorType, 'aborted')
        span.setStatus({ code: SpanStatusCode.ERROR, message: this.outcome as string })
      }
    } catch (err) {
      diag.instrumentationError(`${this.op.provider} span recording`, err)
    }
    this.attrs = undefined
    this.outcome = undefined
    span?.end(at)
  }

  /** Standalone, ended OK: the finished span written directly (span-record.ts). False: the tracer builds it. */
  private writeRecord(writer: SpanWriter, attrs: Attributes): boolean {
    try {
      if (this.firstChunkAt !== undefined) attrs[ATTR.ttft] = (this.firstChunkAt - this.startedAt) / 1000
      if (!writer.write(this.name, attrs, this.parent, this.startedAt + this.startOffset, this.endedAt + this.endOffset)) return false
    } catch (err) {
      diag.instrumentationError(`${this.op.provider} span recording`, err)
    }
    this.attrs = undefined
    this.outcome = undefined
    return true
  }
}

export function recordError(span: Span, err: unknown, time?: TimeInput): void {
  const e = err as { name?: unknown; message?: unknown; status?: unknown; constructor?: { name?: string } } | undefined
  const type =
    (typeof e?.constructor?.name === 'string' && e.constructor.name !== 'Object' ? e.constructor.name : undefined) ??
    (typeof e?.name === 'string' ? e.name : '_OTHER')
  span.setAttribute(ATTR.errorType, type)
  if (typeof e?.status === 'number') span.setAttribute('http.response.status_code', e.status)
  if (err instanceof Error) span.recordException(err, time)
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message : String(err) })
}

/** Adds an attribute only when the value is a usable primitive; keeps spans free of `undefined`s. */
export function setIf(attrs: Attributes, key: string, value: unknown): void {
  if (usable(value)) attrs[key] = value
}

/** A non-empty string, a finite number, a boolean, or a non-empty array of strings. */
function usable(value: unknown): value is string | number | boolean | string[] {
  // Most request parameters are absent: leave first.
  if (value === undefined) return false
  if (typeof value === 'string' ? value.length > 0 : typeof value === 'number' ? Number.isFinite(value) : typeof value === 'boolean') return true
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')
}
