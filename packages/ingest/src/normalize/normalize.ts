import { droppedFromShared } from '../otlp/attribute-cap.js'
import { type Attrs, type OtlpSpan, setOwn } from '../otlp/model.js'
import { AttrReader, attrString, readNumber } from './attrs.js'
import { INPUT, OUTPUT } from './content.js'
import * as C from './conventions.js'
import type { PriceTable } from './cost.js'
import type { Redactor } from './redact.js'
import { OTLP_SPAN_KINDS, STATUS_CODES } from '../schema/span-columns.js'
import type { SpanRow } from './row.js'
import { cutBytes, cutChars, TRUNCATED } from './truncate.js'

export interface NormalizeOptions {
  prices: PriceTable
  redact?: Redactor | undefined
}

/** Content past this many UTF-8 bytes is cut: one span must not be able to dominate a batch. */
export const MAX_CONTENT_BYTES = 4 * 1024 * 1024
/** An attribute value's UTF-8 bytes, as the docs' "1 MiB" says. */
const MAX_ATTRIBUTE_BYTES = 1024 * 1024
/**
 * Names, ids and labels (service, model, user, release, tags...): a 1.1 MB
 * service.name was stored whole in every row of its request (~260x the body in
 * the spool). Real values are a few dozen characters.
 */
const MAX_LABEL_CHARS = 1024
const MAX_STATUS_MESSAGE_BYTES = 64 * 1024
/**
 * The resource's and the scope's attributes (keys and values, UTF-8 bytes) are copied into
 * every span row of the request, so their size multiplies by the span count; SDKs send
 * 1-4 KB of resource, a scope a few attributes if any.
 */
const MAX_SHARED_BYTES = 16 * 1024
const NONE: readonly string[] = []

/** The longest label a row holds, marker included: the query routes take ids up to this length (server.ts). */
export const MAX_STORED_LABEL_CHARS = MAX_LABEL_CHARS + TRUNCATED.length

export const label = (v: string): string => cutChars(v, MAX_LABEL_CHARS)

/** Maps one OTLP span, in whatever GenAI convention it speaks, to a `spans` row. */
export function normalizeSpan(span: OtlpSpan, projectId: string, opts: NormalizeOptions): SpanRow {
  const a = new AttrReader(span.attributes, span.resource)
  const kind = C.first(C.KIND, a, span) ?? 'other'
  const requestModel = C.first(C.REQUEST_MODEL, a, span) ?? ''
  const responseModel = C.first(C.RESPONSE_MODEL, a, span) ?? ''
  const input = nonNegInt(C.first(C.INPUT_TOKENS, a, span))
  const output = nonNegInt(C.first(C.OUTPUT_TOKENS, a, span))
  const cacheRead = nonNegInt(C.first(C.CACHE_READ_TOKENS, a, span))
  const cacheWrite = nonNegInt(C.first(C.CACHE_WRITE_TOKENS, a, span))
  const reasoning = nonNegInt(C.first(C.REASONING_TOKENS, a, span))
  // The sum is clamped as each count is: two counts near the UInt32 limit add up past it.
  const total = nonNegInt(C.first(C.TOTAL_TOKENS, a, span)) || nonNegInt(input + output)
  const isModelCall = kind === 'llm' || kind === 'embedding'
  const cost = isModelCall
    ? opts.prices.cost([responseModel, requestModel], { input, output, cacheRead, cacheWrite })
    : null
  const ttft = C.first(C.TTFT_MS, a, span)

  let status: SpanRow['status_code'] = STATUS_CODES[span.statusCode] ?? 'unset'
  let statusMessage = span.statusMessage
  if (status !== 'error' && a.str('langfuse.observation.level') === 'ERROR') {
    status = 'error'
    statusMessage ||= a.str('langfuse.observation.status_message') ?? ''
  }

  const redact = opts.redact
  const clean = (v: string): string => (redact ? redact(v) : v)
  const inputFound = C.first(INPUT, a, span)
  const outputFound = C.first(OUTPUT, a, span)
  const inputText = cutBytes(inputFound?.text ?? '', MAX_CONTENT_BYTES)
  const outputText = cutBytes(outputFound?.text ?? '', MAX_CONTENT_BYTES)
  // Content is stored once: an attribute carried whole into input/output is not
  // kept twice; spanlens.input.source / output.source name where it came from.
  // The map is built without those keys: deleting them afterwards turned every
  // row's map into a slow dictionary-mode object (~4% of prepare()'s time).
  const inputCarried = inputFound?.carried ?? NONE
  const outputCarried = outputFound?.carried ?? NONE
  const skip = inputCarried.length > 0 || outputCarried.length > 0 ? [...inputCarried, ...outputCarried] : undefined
  const attributes = mapStrings(span.attributes, redact, skip)
  if (inputCarried.length > 0) attributes['spanlens.input.source'] = inputCarried.join(',')
  if (outputCarried.length > 0) attributes['spanlens.output.source'] = outputCarried.join(',')
  // Past the decoder's caps (otlp/values.ts, otlp/attribute-cap.ts): how many, as the span's own record of it.
  if (span.droppedEvents) attributes['spanlens.events.dropped'] = String(span.droppedEvents)
  if (span.droppedLinks) attributes['spanlens.links.dropped'] = String(span.droppedLinks)
  withOwnDropped(attributes, span.droppedAttributes)

  const endNsText = span.endNs === '0' ? span.startNs : span.endNs

  return {
    project_id: projectId,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: label(span.name),
    kind,
    span_kind: OTLP_SPAN_KINDS[span.kind] ?? 'unspecified',
    service_name: label(a.res('service.name') ?? 'unknown_service'),
    scope_name: label(span.scopeName),
    scope_version: label(span.scopeVersion),
    start_time: nsToSeconds(span.startNs),
    end_time: nsToSeconds(endNsText),
    duration_ms: nsBetween(span.startNs, endNsText) / 1e6,
    status_code: status,
    status_message: clean(cutBytes(statusMessage, MAX_STATUS_MESSAGE_BYTES)),
    error_type: label(C.first(C.ERROR_TYPE, a, span) ?? ''),
    provider: label(C.canonicalProvider(C.first(C.PROVIDER, a, span) ?? '')),
    operation: label(C.first(C.OPERATION, a, span) ?? defaultOperation(kind)),
    request_model: label(requestModel),
    response_model: label(responseModel),
    input_tokens: input,
    output_tokens: output,
    total_tokens: total,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    reasoning_tokens: reasoning,
    cost_usd: cost,
    ttft_ms: ttft !== undefined && ttft >= 0 ? ttft : null,
    finish_reason: label(C.canonicalFinishReason(C.first(C.FINISH_REASON, a, span) ?? '')),
    input: clean(inputText),
    output: clean(outputText),
    user_id: label(C.first(C.USER_ID, a, span) ?? ''),
    session_id: label(C.first(C.SESSION_ID, a, span) ?? ''),
    environment: label(C.first(C.ENVIRONMENT, a, span) ?? ''),
    release: label(C.first(C.RELEASE, a, span) ?? ''),
    tags: labels(C.first(C.TAGS, a, span)),
    attributes,
    resource_attributes: resourceStrings(span.resource, redact),
    scope_attributes: scopeStrings(span.scopeAttributes, redact),
    'events.time': span.events.map((e) => nsToSeconds(e.timeNs === '0' ? span.startNs : e.timeNs)),
    'events.name': span.events.map((e) => label(e.name)),
    'events.attributes': span.events.map((e) => withOwnDropped(mapStrings(e.attributes, redact), e.droppedAttributes)),
    'links.trace_id': span.links.map((l) => l.traceId),
    'links.span_id': span.links.map((l) => l.spanId),
    'links.attributes': span.links.map((l) => withOwnDropped(mapStrings(l.attributes, redact), l.droppedAttributes)),
    embedding: embedding(a),
  }
}

function labels(values: string[] | undefined): string[] {
  if (!values) return []
  for (const v of values) if (v.length > MAX_LABEL_CHARS) return values.map(label)
  return values
}

function defaultOperation(kind: string): string {
  if (kind === 'llm') return 'chat'
  if (kind === 'embedding') return 'embeddings'
  return ''
}

function nonNegInt(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v) || v < 0) return 0
  return Math.min(Math.trunc(v), 4_294_967_295)
}

/**
 * "1700000000123456789" → "1700000000.123456789", what DateTime64(9) parses
 * exactly. The seconds always have 10 digits: ClickHouse reads a shorter number
 * as a date, not as a Unix time ("0.000000001" fails the insert with "Cannot read
 * DateTime"; "10.5" was stored as 2026-05-10), so times before 2001-09-09 are padded.
 */
export function nsToSeconds(ns: string): string {
  const padded = ns.length >= 19 ? ns : ns.padStart(19, '0')
  return `${padded.slice(0, -9)}.${padded.slice(-9)}`
}

/**
 * end - start in nanoseconds, from the decimal strings decode produces. Exact
 * while the difference fits a double's 53 bits (104 days), like the BigInt
 * subtraction it replaces, which cost about as much as the rest of the timing
 * fields together.
 */
function nsBetween(startNs: string, endNs: string): number {
  return (seconds(endNs) - seconds(startNs)) * 1e9 + (nanos(endNs) - nanos(startNs))
}
// Under a second since the epoch, the seconds part is '' and Number('') is 0.
const seconds = (ns: string): number => Number(ns.slice(0, -9))
const nanos = (ns: string): number => Number(ns.slice(-9))

/** Stored attributes of a span, log record, event, link, metric point or exemplar, with how many the decoder left out past its cap (otlp/attribute-cap.ts). */
export function withOwnDropped(attributes: Record<string, string>, dropped: number | undefined): Record<string, string> {
  if (dropped) attributes['spanlens.attributes.dropped'] = String(dropped)
  return attributes
}

/**
 * Attributes as a Map(String, String): flattened, cut, redacted, in one pass (each object is built once,
 * never reassigned). A key is cut like a label: a 50 MB key was stored whole in the map's keys, which
 * every attribute-keys read and key lookup then scans. Two keys alike in their first 1,024 characters
 * keep the first one's value.
 */
export function mapStrings(attrs: Attrs, redact: Redactor | undefined, skip?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let key in attrs) {
    let v = attrString(attrs[key])
    if (v === undefined || (skip !== undefined && skip.includes(key))) continue
    if (key.length > MAX_LABEL_CHARS) {
      key = label(key)
      if (Object.hasOwn(out, key)) continue
    }
    v = cutBytes(v, MAX_ATTRIBUTE_BYTES)
    setOwn(out, key, redact ? redact(v) : v)
  }
  return out
}

/**
 * Every span of a ResourceSpans shares one resource object, and every span of a ScopeSpans
 * one scope attributes object (both decoders; log records and metrics alike), and SDKs send
 * 10-20 resource attributes (sdk, service, process, host): flattened and redacted once per
 * request instead of once per span. The rows share the result, so nothing may change a
 * row's resource_attributes or scope_attributes.
 */
const sharedCache = new WeakMap<Attrs, { redact: Redactor | undefined; strings: Readonly<Record<string, string>> }>()
const NO_STRINGS: Readonly<Record<string, string>> = Object.freeze({})

/** A resource's attributes as stored; past the budget `spanlens.resource.truncated`, past the cap `spanlens.resource.attributes.dropped`. */
export const resourceStrings = (resource: Attrs, redact: Redactor | undefined): Readonly<Record<string, string>> => sharedStrings(resource, redact, 'resource')

/** A scope's attributes as stored, marked as a resource's are (`spanlens.scope.truncated`, `spanlens.scope.attributes.dropped`). */
export const scopeStrings = (scope: Attrs, redact: Redactor | undefined): Readonly<Record<string, string>> => sharedStrings(scope, redact, 'scope')

function sharedStrings(attrs: Attrs, redact: Redactor | undefined, owner: 'resource' | 'scope'): Readonly<Record<string, string>> {
  const hit = sharedCache.get(attrs)
  if (hit && hit.redact === redact) return hit.strings
  const dropped = droppedFromShared(attrs)
  // Most scopes have no attributes: no map to build or cache.
  if (dropped === 0 && isEmpty(attrs)) return NO_STRINGS
  const strings = Object.freeze(withDropped(withinBudget(mapStrings(attrs, redact), MAX_SHARED_BYTES, owner), dropped, owner))
  sharedCache.set(attrs, { redact, strings })
  return strings
}

function isEmpty(attrs: Attrs): boolean {
  for (const _ in attrs) return false
  return true
}

/** Keeps attributes in order until `budget` UTF-8 bytes (keys and values), cuts the one that crosses it, drops the rest. */
function withinBudget(m: Record<string, string>, budget: number, owner: 'resource' | 'scope'): Record<string, string> {
  let used = 0
  let out: Record<string, string> | undefined
  for (const key in m) {
    const value = m[key] as string
    const valueBytes = Buffer.byteLength(value)
    used += Buffer.byteLength(key) + valueBytes
    if (used <= budget) continue
    if (!out) {
      out = {}
      for (const k in m) {
        if (k === key) break
        setOwn(out, k, m[k] as string)
      }
      const room = budget - (used - valueBytes)
      if (room > 0) setOwn(out, key, cutBytes(value, room))
      out[`spanlens.${owner}.truncated`] = 'true'
    }
  }
  return out ?? m
}

/** The count of attributes the decoder left out past the cap (otlp/attribute-cap.ts), outside the budget as the truncated marker is. */
function withDropped(m: Record<string, string>, dropped: number, owner: 'resource' | 'scope'): Record<string, string> {
  return dropped > 0 ? { ...m, [`spanlens.${owner}.attributes.dropped`]: String(dropped) } : m
}

function embedding(a: AttrReader): number[] {
  const v = a.raw('spanlens.embedding') ?? a.raw('embedding.embeddings.0.embedding.vector')
  const list = typeof v === 'string' && v.startsWith('[') ? safeParse(v) : v
  if (!Array.isArray(list) || list.length > 16_384) return []
  const out: number[] = []
  for (const x of list) {
    const n = readNumber(x)
    if (n === undefined) return []
    out.push(n)
  }
  return out
}

function safeParse(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return undefined
  }
}
