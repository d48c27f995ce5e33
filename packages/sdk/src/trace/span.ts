import { SpanStatusCode, type AttributeValue, type Attributes, type Context, type Exception, type HrTime, type Link, type Span, type SpanContext, type SpanKind, type SpanStatus, type TimeInput } from '@opentelemetry/api'
import { diag } from '../diag.js'
import { keptPrefix } from '../redact-cut.js'
import { sanitizeAttributes, isAttributeValue, truncateValue } from './attribute-values.js'
import { boundArray, boundName } from '../value-bounds.js'
import { fromTimeInput, hrTimeAt, hrTimeDuration, isTimeInput, spanClock } from './time.js'
import type { FinishedSpan, InstrumentationScope, Resource, SpanLimits, SpanProcessor, TimedEvent } from './types.js'

export interface SpanParts {
  name: string
  kind: SpanKind
  spanContext: SpanContext
  parentSpanContext: SpanContext | undefined
  /** As the caller gave them: the span checks each as it sets it. */
  attributes: Attributes | undefined
  links: Link[] | undefined
  startTime: TimeInput | undefined
  parentContext: Context
  resource: Resource
  scope: InstrumentationScope
  limits: SpanLimits
  processor: SpanProcessor
  /**
   * Runs on a string value (by its key) before it is cut to the value length limit: redaction, which
   * otherwise runs at export, after the cut, when a secret the cut split no longer matches its pattern.
   */
  redact?: ((key: string, value: string) => string) | undefined
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

function isLink(v: unknown): v is Link {
  const c = typeof v === 'object' && v !== null ? (v as Partial<Link>).context : undefined
  return typeof c === 'object' && c !== null && typeof c.traceId === 'string' && typeof c.spanId === 'string'
}

/** Room for one more event or link under `limit`: there is, the oldest made way, or none may be kept (limit 0). */
function makeRoom(list: unknown[], limit: number): 'room' | 'oldest dropped' | 'none' {
  if (limit === 0) return 'none'
  if (list.length < limit) return 'room'
  list.shift()
  return 'oldest dropped'
}

/**
 * A recording span of the SDK's own provider. It behaves as
 * @opentelemetry/sdk-trace's SpanImpl does (the same limits, dropping rules,
 * status rules, time arithmetic and exception event), which the SDK's tests
 * check operation by operation against that package; it is the span an app
 * reaches through `observe()`'s handle or the active context.
 */
export class SpanlensSpan implements Span, FinishedSpan {
  name: string
  readonly kind: SpanKind
  readonly parentSpanContext: SpanContext | undefined
  readonly attributes: Attributes = {}
  readonly links: Link[] = []
  readonly events: TimedEvent[] = []
  readonly startTime: HrTime
  endTime: HrTime = [0, 0]
  status: SpanStatus = { code: SpanStatusCode.UNSET }
  readonly resource: Resource
  readonly instrumentationScope: InstrumentationScope
  // What the span works with, kept in private fields: not enumerable, so neither util.inspect nor
  // JSON.stringify of a span an app logs walks into the processor and the exporter's headers (its API key).
  readonly #context: SpanContext
  readonly #limits: SpanLimits
  readonly #processor: SpanProcessor
  readonly #redact: ((key: string, value: string) => string) | undefined
  #attributeCount = 0
  #done = false
  #length: HrTime = [-1, -1]
  #droppedAttributes = 0
  #droppedEvents = 0
  #droppedLinks = 0

  constructor(p: SpanParts) {
    const now = performance.now()
    const offset = spanClock.sync(now)
    this.#context = p.spanContext
    this.#limits = p.limits
    this.#processor = p.processor
    this.#redact = p.redact
    this.name = p.name
    this.kind = p.kind
    this.parentSpanContext = p.parentSpanContext
    if (p.links) this.addLinks(p.links)
    this.startTime = fromTimeInput(p.startTime, offset) ?? hrTimeAt(now + offset)
    this.resource = p.resource
    this.instrumentationScope = p.scope
    if (p.attributes) this.setAttributes(p.attributes)
    this.#processor.onStart(this, p.parentContext)
  }

  spanContext(): SpanContext {
    return this.#context
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value == null || this.endedAlready()) return this
    if (typeof key !== 'string' || key.length === 0 || !isAttributeValue(value)) {
      diag.debug(`invalid attribute ${typeof key !== 'string' || key.length === 0 ? 'key' : `value for key ${boundName(key)}`} dropped`)
      return this
    }
    // Cut as the export cuts it, before it is looked up: hashing a 50 MB key was ~30 ms of the app's thread.
    key = boundName(key)
    const isNew = !hasOwn(this.attributes, key)
    if (isNew && this.#attributeCount >= this.#limits.attributeCountLimit) {
      this.#droppedAttributes++
      return this
    }
    this.attributes[key] = this.cut(key, value)
    if (isNew) this.#attributeCount++
    return this
  }

  setAttributes(attributes: Attributes): this {
    if (typeof attributes === 'object' && attributes !== null) for (const key in attributes) if (hasOwn(attributes, key)) this.setAttribute(key, attributes[key])
    return this
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    // An event the exporter could not write would cost the whole span.
    if (typeof name !== 'string' || this.endedAlready()) return this
    const room = makeRoom(this.events, this.#limits.eventCountLimit)
    if (room !== 'room') this.#droppedEvents++
    if (room === 'none') return this
    let attributes = attributesOrTime
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime
      attributes = undefined
    }
    const [kept, dropped] = this.limited(attributes, this.#limits.attributePerEventCountLimit)
    this.events.push({ name, attributes: kept, time: this.timeOf(time), droppedAttributesCount: dropped })
    return this
  }

  addLink(link: Link): this {
    // The app reaches this span (observe()'s handle): what the API's types rule out is ignored, not thrown on.
    if (!isLink(link) || this.endedAlready()) return this
    const room = makeRoom(this.links, this.#limits.linkCountLimit)
    if (room !== 'room') this.#droppedLinks++
    if (room === 'none') return this
    const [kept, dropped] = this.limited(link.attributes, this.#limits.attributePerLinkCountLimit)
    const out: Link = { context: link.context }
    if (Object.keys(kept).length > 0) out.attributes = kept
    if (dropped > 0) out.droppedAttributesCount = dropped
    this.links.push(out)
    return this
  }

  addLinks(links: Link[]): this {
    if (Array.isArray(links)) for (const link of links) this.addLink(link)
    return this
  }

  setStatus(status: SpanStatus): this {
    if (typeof status !== 'object' || status === null || this.endedAlready()) return this
    // UNSET changes nothing; OK is final (the OpenTelemetry API's rules).
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this
    const next: SpanStatus = { code: status.code }
    if (status.code === SpanStatusCode.ERROR) {
      if (typeof status.message === 'string') next.message = status.message
      else if (status.message != null) diag.debug(`status message of type ${typeof status.message} dropped`)
    }
    this.status = next
    return this
  }

  updateName(name: string): this {
    if (typeof name === 'string' && !this.endedAlready()) this.name = name
    return this
  }

  end(endTime?: TimeInput): void {
    if (this.#done) {
      diag.debug(`span ${this.name} ${this.#context.traceId}-${this.#context.spanId} ended twice; the second end() is ignored`)
      return
    }
    this.endTime = this.timeOf(endTime)
    this.#length = hrTimeDuration(this.startTime, this.endTime)
    if (this.#length[0] < 0) {
      // Ended before it started (a given time): zero length, as the tracing SDK records it.
      this.endTime = this.startTime.slice() as HrTime
      this.#length = [0, 0]
    }
    this.#done = true
    this.#processor.onEnd(this)
  }

  isRecording(): boolean {
    return !this.#done
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {}
    if (typeof exception === 'string') attributes['exception.message'] = exception
    else if (exception) {
      if (exception.code) attributes['exception.type'] = exception.code.toString()
      else if (exception.name) attributes['exception.type'] = exception.name
      if (exception.message) attributes['exception.message'] = exception.message
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time)
    else diag.debug('an exception without a type or message was not recorded')
  }

  get duration(): HrTime {
    return this.#length
  }

  get ended(): boolean {
    return this.#done
  }

  get droppedAttributesCount(): number {
    return this.#droppedAttributes
  }

  get droppedEventsCount(): number {
    return this.#droppedEvents
  }

  get droppedLinksCount(): number {
    return this.#droppedLinks
  }

  private endedAlready(): boolean {
    if (this.#done) diag.debug(`span ${this.name} ${this.#context.traceId}-${this.#context.spanId} changed after it ended; ignored`)
    return this.#done
  }

  /**
   * `value` cut to the value length limit; a string the cut shortens, or each such string of an array,
   * redacted over what the cut keeps (redact-cut.ts), so no part of a secret the cut splits is kept.
   */
  private cut(key: string, value: AttributeValue): AttributeValue {
    const limit = this.#limits.attributeValueLengthLimit
    if (this.#redact && limit > 0 && limit !== Infinity && (typeof value === 'string' || Array.isArray(value))) return redactedCut(key, value, limit, this.#redact)
    return truncateValue(value, limit)
  }

  /** An event's or the end's time: the one given, else the SDK's clock now (time.ts). */
  private timeOf(input: TimeInput | undefined): HrTime {
    const offset = spanClock.current()
    return fromTimeInput(input, offset) ?? hrTimeAt(performance.now() + offset)
  }

  /** An event's or a link's attributes, sanitized, cut to `limit` entries and truncated; and how many were dropped. */
  private limited(attributes: unknown, limit: number): [Attributes, number] {
    const sanitized = sanitizeAttributes(attributes)
    const kept: Attributes = {}
    let count = 0
    let dropped = 0
    for (const key in sanitized) {
      if (count >= limit) {
        dropped++
        continue
      }
      kept[boundName(key)] = this.cut(key, sanitized[key] as AttributeValue)
      count++
    }
    return [kept, dropped]
  }
}

/**
 * A string, or each string of an array, cut to `limit` and redacted over what the cut keeps. Apart from
 * Span.cut, which runs on every attribute: a closure there makes V8 allocate its context on every call.
 */
function redactedCut(key: string, value: string | AttributeValue[] | readonly unknown[], limit: number, redact: (key: string, value: string) => string): AttributeValue {
  const step = (v: string): string => redact(key, v)
  if (typeof value === 'string') return value.length > limit ? keptPrefix(value, limit, step).text : value
  return boundArray(value, false).map((e: unknown) => (typeof e === 'string' && e.length > limit ? keptPrefix(e, limit, step).text : e)) as AttributeValue
}
