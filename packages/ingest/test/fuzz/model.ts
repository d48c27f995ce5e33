import { pb, type WireField } from './wire.js'
import type { Rng } from './rng.js'

/**
 * An OTLP trace request as the fuzzer sees it: plain data, written out as
 * protobuf (wire.ts) or OTLP JSON. Strings may be Buffers to carry invalid UTF-8.
 */
export type Str = string | Buffer
export type AnyValue =
  | { string: Str }
  | { bool: boolean }
  | { int: bigint }
  | { double: number }
  | { array: AnyValue[] }
  | { kvlist: KeyValue[] }
  | { bytes: Buffer }
export interface KeyValue {
  key: Str
  value: AnyValue
}
export interface EventModel {
  time: bigint
  name: Str
  attributes: KeyValue[]
}
export interface LinkModel {
  traceId: Buffer
  spanId: Buffer
  attributes: KeyValue[]
}
export interface SpanModel {
  traceId: Buffer
  spanId: Buffer
  parentSpanId: Buffer
  name: Str
  kind: number
  start: bigint
  end: bigint
  attributes: KeyValue[]
  events: EventModel[]
  links: LinkModel[]
  status?: { code: number; message: Str }
}
export interface ScopeModel {
  name: Str
  version: Str
  spans: SpanModel[]
}
export interface ResourceModel {
  attributes: KeyValue[]
  scopes: ScopeModel[]
}
export interface RequestModel {
  resources: ResourceModel[]
}

export const NS_PER_MS = 1_000_000n
export const nowNs = (): bigint => BigInt(Date.now()) * NS_PER_MS
export const dayNs = 86_400_000_000_000n

/** Timestamps at and beyond the edges of OTLP's fixed64 and ClickHouse's DateTime64(9) (1900..2262-04-11). */
export const EDGE_NANOS: ReadonlyArray<readonly [string, bigint]> = [
  ['0 (1970)', 0n],
  ['1 ns', 1n],
  ['2^31 s in ns (2038)', 2_147_483_648n * 1_000_000_000n],
  ['2^63-1 (2262-04-11T23:47:16.854775807Z)', (1n << 63n) - 1n],
  ['2^63 (first ns after 2262)', 1n << 63n],
  ['year 2300', BigInt(Date.UTC(2300, 0, 1)) * NS_PER_MS],
  ['2^64-1 (2554)', (1n << 64n) - 1n],
  ['ms not ns (2026 in ms)', 1_796_000_000_000n],
  ['s not ns (2026 in s)', 1_796_000_000n],
  ['us not ns (2026 in us)', 1_796_000_000_000_000n],
]

export const str = (s: Str): string => (typeof s === 'string' ? s : s.toString('utf8'))

/** A non-zero random id (an all-zero id is invalid in OTLP). */
export function randomId(rng: Rng, bytes: number): Buffer {
  const b = rng.bytes(bytes)
  b[0] = (b[0] as number) | 1
  return b
}

const s = (key: string, v: string): KeyValue => ({ key, value: { string: v } })
const i = (key: string, v: number | bigint): KeyValue => ({ key, value: { int: BigInt(v) } })

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet', 'unknown-model-x']

/** A realistic span: plain, or an LLM call with GenAI attributes (what exporters really send). */
export function baseSpan(rng: Rng, traceId: Buffer, parent: Buffer, start: bigint): SpanModel {
  const llm = rng.bool(0.6)
  const durationNs = BigInt(rng.int(1, 5000)) * NS_PER_MS
  const attributes: KeyValue[] = llm
    ? [
        s('gen_ai.operation.name', 'chat'),
        s('gen_ai.provider.name', 'openai'),
        s('gen_ai.request.model', rng.pick(MODELS)),
        i('gen_ai.usage.input_tokens', rng.int(0, 5000)),
        i('gen_ai.usage.output_tokens', rng.int(0, 2000)),
        s('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `q ${rng.int(0, 1e6)}` }] }])),
        s('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'a' }] }])),
        s('user.id', `u-${rng.int(0, 20)}`),
        s('session.id', `s-${rng.int(0, 20)}`),
        { key: 'gen_ai.server.time_to_first_token', value: { double: rng.next() } },
      ]
    : [s('component', 'chain'), { key: 'flag', value: { bool: rng.bool() } }]
  return {
    traceId,
    spanId: randomId(rng, 8),
    parentSpanId: parent,
    name: llm ? 'chat' : `step-${rng.int(0, 9)}`,
    kind: rng.int(1, 5),
    start,
    end: start + durationNs,
    attributes,
    events: rng.bool(0.2) ? [{ time: start + 1000n, name: 'gen_ai.choice', attributes: [i('index', 0)] }] : [],
    links: rng.bool(0.1) ? [{ traceId: randomId(rng, 16), spanId: randomId(rng, 8), attributes: [] }] : [],
    ...(rng.bool(0.3) ? { status: { code: rng.int(0, 2), message: rng.bool() ? 'boom' : '' } } : {}),
  }
}

/** A valid request: 1-2 resources × 1-2 scopes × 1-4 spans, times within the last hour. */
export function baseRequest(rng: Rng, opts: { service: string; now?: bigint; maxSpans?: number }): RequestModel {
  const now = opts.now ?? nowNs()
  const resources: ResourceModel[] = []
  for (let r = rng.int(1, 2); r > 0; r--) {
    const scopes: ScopeModel[] = []
    for (let sc = rng.int(1, 2); sc > 0; sc--) {
      const traceId = randomId(rng, 16)
      const start = now - BigInt(rng.int(0, 3_600_000)) * NS_PER_MS
      const spans: SpanModel[] = []
      const n = rng.int(1, opts.maxSpans ?? 4)
      for (let k = 0; k < n; k++) spans.push(baseSpan(rng, traceId, k === 0 ? Buffer.alloc(0) : (spans[0] as SpanModel).spanId, start))
      scopes.push({ name: 'fuzz', version: '1.0.0', spans })
    }
    resources.push({
      attributes: [s('service.name', opts.service), s('deployment.environment.name', rng.pick(['prod', 'dev'])), s('service.version', `v${rng.int(1, 3)}`)],
      scopes,
    })
  }
  return { resources }
}

export function spansOf(req: RequestModel): SpanModel[] {
  return req.resources.flatMap((r) => r.scopes.flatMap((s) => s.spans))
}

// ---- protobuf (field numbers from opentelemetry/proto/{common,resource,trace}/v1/*.proto)

function anyValueWire(v: AnyValue): WireField[] {
  if ('string' in v) return [{ ...pb.string(1, v.string), tag: 'any.string' }]
  if ('bool' in v) return [{ ...pb.varint(2, v.bool), tag: 'any.bool' }]
  if ('int' in v) return [{ ...pb.int(3, v.int), tag: 'any.int' }]
  if ('double' in v) return [{ ...pb.double(4, v.double), tag: 'any.double' }]
  if ('array' in v) return [{ ...pb.message(5, v.array.map((x) => ({ ...pb.message(1, anyValueWire(x)), tag: 'any' }))), tag: 'any.array' }]
  if ('kvlist' in v) return [{ ...pb.message(6, v.kvlist.map((kv) => ({ ...pb.message(1, kvWire(kv)), tag: 'kv' }))), tag: 'any.kvlist' }]
  return [{ ...pb.bytes(7, v.bytes), tag: 'any.bytes' }]
}

function kvWire(kv: KeyValue): WireField[] {
  return [{ ...pb.string(1, kv.key), tag: 'kv.key' }, { ...pb.message(2, anyValueWire(kv.value)), tag: 'any' }]
}

const kvs = (no: number, list: KeyValue[]): WireField[] => list.map((kv) => ({ ...pb.message(no, kvWire(kv)), tag: 'kv' }))

export function spanWire(sp: SpanModel): WireField[] {
  const f: WireField[] = [
    { ...pb.bytes(1, sp.traceId), tag: 'span.trace_id' },
    { ...pb.bytes(2, sp.spanId), tag: 'span.span_id' },
  ]
  if (sp.parentSpanId.length > 0) f.push({ ...pb.bytes(4, sp.parentSpanId), tag: 'span.parent_span_id' })
  f.push({ ...pb.string(5, sp.name), tag: 'span.name' })
  f.push({ ...pb.int(6, sp.kind), tag: 'span.kind' })
  f.push({ ...pb.fixed64(7, sp.start), tag: 'span.start' })
  f.push({ ...pb.fixed64(8, sp.end), tag: 'span.end' })
  f.push(...kvs(9, sp.attributes))
  for (const e of sp.events) {
    f.push({
      ...pb.message(11, [{ ...pb.fixed64(1, e.time), tag: 'event.time' }, { ...pb.string(2, e.name), tag: 'event.name' }, ...kvs(3, e.attributes)]),
      tag: 'span.event',
    })
  }
  for (const l of sp.links) {
    f.push({
      ...pb.message(13, [{ ...pb.bytes(1, l.traceId), tag: 'link.trace_id' }, { ...pb.bytes(2, l.spanId), tag: 'link.span_id' }, ...kvs(4, l.attributes)]),
      tag: 'span.link',
    })
  }
  if (sp.status) {
    f.push({ ...pb.message(15, [{ ...pb.string(2, sp.status.message), tag: 'status.message' }, { ...pb.int(3, sp.status.code), tag: 'status.code' }]), tag: 'span.status' })
  }
  return f
}

export function requestWire(req: RequestModel): WireField[] {
  return req.resources.map((r) => ({
    ...pb.message(1, [
      { ...pb.message(1, kvs(1, r.attributes)), tag: 'resource' },
      ...r.scopes.map((sc) => ({
        ...pb.message(2, [
          { ...pb.message(1, [{ ...pb.string(1, sc.name), tag: 'scope.name' }, { ...pb.string(2, sc.version), tag: 'scope.version' }]), tag: 'scope' },
          ...sc.spans.map((sp) => ({ ...pb.message(2, spanWire(sp)), tag: 'span' })),
        ]),
        tag: 'scope_spans',
      })),
    ]),
    tag: 'resource_spans',
  }))
}

// ---- OTLP JSON (proto3 JSON mapping, hex ids, int64 as strings)

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

type Text = (s: Str) => string

export function anyValueJson(v: AnyValue, t: Text = str): Json {
  if ('string' in v) return { stringValue: t(v.string) }
  if ('bool' in v) return { boolValue: v.bool }
  if ('int' in v) return { intValue: v.int.toString() }
  if ('double' in v) {
    const d = v.double
    return { doubleValue: Number.isFinite(d) ? d : Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity' }
  }
  if ('array' in v) return { arrayValue: { values: v.array.map((x) => anyValueJson(x, t)) } }
  if ('kvlist' in v) return { kvlistValue: { values: v.kvlist.map((kv) => kvJson(kv, t)) } }
  return { bytesValue: v.bytes.toString('base64') }
}

export const kvJson = (kv: KeyValue, t: Text = str): Json => ({ key: t(kv.key), value: anyValueJson(kv.value, t) })

export function spanJson(sp: SpanModel, numericTimes = false, text: Text = str): { [k: string]: Json } {
  const t = (n: bigint): Json => (numericTimes ? Number(n) : n.toString())
  const kvs = (l: KeyValue[]) => l.map((kv) => kvJson(kv, text))
  return {
    traceId: sp.traceId.toString('hex'),
    spanId: sp.spanId.toString('hex'),
    ...(sp.parentSpanId.length > 0 ? { parentSpanId: sp.parentSpanId.toString('hex') } : {}),
    name: text(sp.name),
    kind: sp.kind,
    startTimeUnixNano: t(sp.start),
    endTimeUnixNano: t(sp.end),
    attributes: kvs(sp.attributes),
    events: sp.events.map((e) => ({ timeUnixNano: t(e.time), name: text(e.name), attributes: kvs(e.attributes) })),
    links: sp.links.map((l) => ({ traceId: l.traceId.toString('hex'), spanId: l.spanId.toString('hex'), attributes: kvs(l.attributes) })),
    ...(sp.status ? { status: { code: sp.status.code, message: text(sp.status.message) } } : {}),
  }
}

export function requestJson(req: RequestModel, numericTimes = false, text: Text = str): { [k: string]: Json } {
  return {
    resourceSpans: req.resources.map((r) => ({
      resource: { attributes: r.attributes.map((kv) => kvJson(kv, text)) },
      scopeSpans: r.scopes.map((sc) => ({ scope: { name: text(sc.name), version: text(sc.version) }, spans: sc.spans.map((sp) => spanJson(sp, numericTimes, text)) })),
    })),
  }
}

/**
 * OTLP JSON with Buffer strings left as placeholders, for editing as an object;
 * spliceBytes then writes them byte for byte inside their string literals (ASCII
 * escaped as JSON, the rest raw): how invalid UTF-8 gets into a JSON body.
 */
export function requestJsonDoc(req: RequestModel, numericTimes = false): { doc: { [k: string]: Json }; raw: Buffer[] } {
  const raw: Buffer[] = []
  const text = (s: Str) => (typeof s === 'string' ? s : `@@B${raw.push(s) - 1}@@`)
  return { doc: requestJson(req, numericTimes, text), raw }
}

export function spliceBytes(json: string, raw: Buffer[]): Buffer {
  const out: Buffer[] = []
  let last = 0
  for (const m of json.matchAll(/@@B(\d+)@@/g)) {
    const bytes = raw[Number(m[1])]
    if (!bytes) continue
    out.push(Buffer.from(json.slice(last, m.index), 'utf8'), escapeBytes(bytes))
    last = (m.index as number) + m[0].length
  }
  out.push(Buffer.from(json.slice(last), 'utf8'))
  return Buffer.concat(out)
}

export function requestJsonBytes(req: RequestModel, numericTimes = false): Buffer {
  const { doc, raw } = requestJsonDoc(req, numericTimes)
  return spliceBytes(JSON.stringify(doc), raw)
}

function escapeBytes(b: Buffer): Buffer {
  const out: Buffer[] = []
  for (const byte of b) out.push(byte < 0x80 ? Buffer.from(JSON.stringify(String.fromCharCode(byte)).slice(1, -1)) : Buffer.from([byte]))
  return Buffer.concat(out)
}
