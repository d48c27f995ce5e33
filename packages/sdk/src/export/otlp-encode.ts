import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { materializeContent } from '../lazy-content.js'

/**
 * ReadableSpan[] → ExportTraceServiceRequest bytes, with the vendored OTLP
 * protos. Runs off the app's hot path (in the exporter's batch loop).
 */

// src/export/ in the repo, dist/ once bundled: look upward for the package's proto/.
function protoRoot(): string {
  for (const rel of ['../proto', '../../proto', '../../../proto']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(join(dir, 'opentelemetry'))) return dir
  }
  throw new Error('@spanlens/sdk: vendored OTLP protos not found next to the package')
}

let requestType: protobuf.Type | undefined
function exportRequestType(): protobuf.Type {
  if (!requestType) {
    const root = new protobuf.Root()
    const base = protoRoot()
    root.resolvePath = (_origin, target) => join(base, target)
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto')
    requestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
  }
  return requestType
}

/** Loads the protos now so a packaging problem shows at init, not at the first export. */
export function preloadProtos(): void {
  exportRequestType()
}

interface AnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: number
  doubleValue?: number
  arrayValue?: { values: AnyValue[] }
}
interface KeyValue {
  key: string
  value: AnyValue
}

export type AttributeTransform = (key: string, value: string) => string

function anyValue(v: AttributeValue | null | undefined): AnyValue | undefined {
  switch (typeof v) {
    case 'string':
      return { stringValue: v }
    case 'boolean':
      return { boolValue: v }
    case 'number':
      return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? { intValue: v } : { doubleValue: v }
    case 'object':
      if (Array.isArray(v)) {
        const values: AnyValue[] = []
        for (const item of v) values.push(anyValue(item as AttributeValue) ?? {})
        return { arrayValue: { values } }
      }
      return undefined
    default:
      return undefined
  }
}

function keyValues(attrs: Attributes | undefined, transform?: AttributeTransform): KeyValue[] {
  const out: KeyValue[] = []
  if (!attrs) return out
  for (const key of Object.keys(attrs)) {
    let raw = attrs[key]
    if (transform && typeof raw === 'string') raw = transform(key, raw)
    const value = anyValue(raw)
    if (value) out.push({ key, value })
  }
  return out
}

// fixed64 as {low, high}: protobufjs writes it exactly without the optional `long` package.
function nanos(t: HrTime): { low: number; high: number } {
  const n = BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])
  return { low: Number(n & 0xffffffffn), high: Number(n >> 32n) }
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

export interface EncodeOptions {
  /** Redaction of content attributes, applied here so it runs off the hot path. */
  transform?: AttributeTransform
  /** Resource attributes to add where a span's resource lacks them (attach mode). */
  resourceDefaults?: Attributes
}

export function encodeSpans(spans: ReadableSpan[], opts: EncodeOptions = {}): Uint8Array {
  const byResource = new Map<object, Map<string, { scope: ReadableSpan['instrumentationScope']; spans: ReadableSpan[] }>>()
  for (const span of spans) {
    let scopes = byResource.get(span.resource)
    if (!scopes) byResource.set(span.resource, (scopes = new Map()))
    const scopeKey = `${span.instrumentationScope.name}@${span.instrumentationScope.version ?? ''}`
    let group = scopes.get(scopeKey)
    if (!group) scopes.set(scopeKey, (group = { scope: span.instrumentationScope, spans: [] }))
    group.spans.push(span)
  }
  const resourceSpans = []
  for (const [resource, scopes] of byResource) {
    const attrs = { ...opts.resourceDefaults, ...(resource as ReadableSpan['resource']).attributes }
    resourceSpans.push({
      resource: { attributes: keyValues(attrs) },
      scopeSpans: [...scopes.values()].map(({ scope, spans: group }) => ({
        scope: { name: scope.name, version: scope.version ?? '' },
        spans: group.map((s) => encodeSpan(s, opts.transform)),
      })),
    })
  }
  const type = exportRequestType()
  return type.encode({ resourceSpans }).finish()
}

function encodeSpan(s: ReadableSpan, transform: AttributeTransform | undefined) {
  // Prompts and completions whose JSON was left for now, off the app's calls.
  materializeContent(s)
  const ctx = s.spanContext()
  const parent = s.parentSpanContext
  return {
    traceId: hex(ctx.traceId),
    spanId: hex(ctx.spanId),
    traceState: ctx.traceState?.serialize() ?? '',
    parentSpanId: parent?.spanId ? hex(parent.spanId) : Buffer.alloc(0),
    flags: ctx.traceFlags,
    name: s.name,
    // OTLP SpanKind is the API's enum + 1 (0 is UNSPECIFIED there).
    kind: s.kind + 1,
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: keyValues(s.attributes, transform),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      timeUnixNano: nanos(e.time),
      name: e.name,
      attributes: keyValues(e.attributes, transform),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: hex(l.context.traceId),
      spanId: hex(l.context.spanId),
      attributes: keyValues(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount ?? 0,
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message ?? '' },
  }
}
