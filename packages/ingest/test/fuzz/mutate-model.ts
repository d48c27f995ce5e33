import { type AnyValue, dayNs, EDGE_NANOS, type KeyValue, NS_PER_MS, randomId, type RequestModel, type SpanModel, spansOf, type Str } from './model.js'
import type { Rng } from './rng.js'

/**
 * Mutations of the request's meaning, applied before it is written as protobuf or
 * JSON: values at and beyond the edge of every field. Each returns a short
 * description that goes into the case's label (and so into failure messages).
 */
export type ModelMutation = (rng: Rng, req: RequestModel, now: bigint) => string

const anySpan = (rng: Rng, req: RequestModel): SpanModel | undefined => {
  const spans = spansOf(req)
  return spans.length > 0 ? rng.pick(spans) : undefined
}

/** Byte sequences that are not UTF-8: stray continuation, overlong NUL, surrogate, cut multibyte, 0xff. */
export const INVALID_UTF8: ReadonlyArray<Buffer> = [
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0x80, 0x80, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
]

/** Text that breaks naive escaping in TSV/CSV/JSON row formats and in SQL. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  '\0',
  'a\0b',
  '\t',
  'tab\there',
  'line\nbreak',
  '\r\n',
  '"',
  "'",
  '\\',
  '\\N',
  '\\t\\n',
  'back\\slash"quote\'',
  '\u2028\u2029',
  '\ud83d\ude80 emoji',
  '\ufeffbom',
  '%s%d%n',
  "') OR 1=1 --",
  '{"json":true}',
  '\u0000\u0001\u001f\u007f',
]

export function invalidUtf8(rng: Rng): Buffer {
  return Buffer.concat([Buffer.from('x'), rng.pick(INVALID_UTF8), Buffer.from(rng.pick(NASTY_STRINGS))])
}

export function nastyStr(rng: Rng): Str {
  return rng.weighted<() => Str>([
    [5, () => rng.pick(NASTY_STRINGS)],
    [3, () => invalidUtf8(rng)],
    [1, () => 'y'.repeat(rng.pick([256, 65_536, 1_100_000]))],
  ])()
}

/** int64 values at the edges of UInt32 token columns and of int64 itself. */
export const EDGE_INTS: readonly bigint[] = [
  0n, 1n, -1n, 4_294_967_295n, 4_294_967_296n, 9_007_199_254_740_993n, (1n << 63n) - 1n, -(1n << 63n), 2_147_483_648n,
]
export const EDGE_DOUBLES: readonly number[] = [NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, -0, 1e30, -1, 4_294_967_296.5]

const TOKEN_KEYS = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.total_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
  'llm.token_count.prompt',
  'llm.token_count.completion',
  'llm.token_count.total',
  'ai.usage.promptTokens',
]
const NUMERIC_KEYS = ['gen_ai.server.time_to_first_token', 'gen_ai.request.temperature', 'gen_ai.usage.cost', 'llm.cost.total']

export function edgeNumberValue(rng: Rng): AnyValue {
  return rng.weighted<() => AnyValue>([
    [4, () => ({ int: rng.pick(EDGE_INTS) })],
    [3, () => ({ double: rng.pick(EDGE_DOUBLES) })],
    [2, () => ({ string: rng.pick(['-1', '4294967296', '1e30', 'NaN', 'Infinity', '12abc', ' 7', '0x10', '']) })],
    [1, () => ({ bool: true })],
    [1, () => ({ array: [{ int: 5n }, { string: 'x' }] })],
  ])()
}

function setAttr(list: KeyValue[], key: string, value: AnyValue): void {
  const at = list.findIndex((kv) => kv.key === key)
  if (at >= 0) list[at] = { key, value }
  else list.push({ key, value })
}

function nested(rng: Rng, depth: number): AnyValue {
  let v: AnyValue = { string: 'leaf' }
  for (let d = 0; d < depth; d++) v = rng.bool() ? { kvlist: [{ key: 'k', value: v }] } : { array: [v] }
  return v
}

export const MODEL_MUTATIONS: Record<string, ModelMutation> = {
  edgeTime(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'edgeTime(no span)'
    const [label, t] = rng.pick(EDGE_NANOS)
    const which = rng.pick(['start', 'end', 'both', 'end-only-late'] as const)
    if (which === 'start' || which === 'both') sp.start = t
    if (which === 'end' || which === 'both') sp.end = t
    if (which === 'end-only-late') sp.end = t > sp.start ? t : sp.start + 1n
    return `edgeTime(${which}=${label})`
  },
  endBeforeStart(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'endBeforeStart(no span)'
    sp.end = sp.start - BigInt(rng.int(1, 1000))
    return 'endBeforeStart'
  },
  longDuration(rng, req, now) {
    const sp = anySpan(rng, req)
    if (!sp) return 'longDuration(no span)'
    sp.start = rng.pick([0n, BigInt(Date.UTC(1999, 0, 1)) * NS_PER_MS, now - dayNs])
    sp.end = rng.pick([(1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, now])
    return `longDuration(${sp.start}..${sp.end})`
  },
  manyDays(rng, req, now) {
    const scope = req.resources[0]?.scopes[0]
    if (!scope) return 'manyDays(no scope)'
    const days = rng.int(95, 130)
    const traceId = randomId(rng, 16)
    for (let d = 0; d < days; d++) {
      const start = now - BigInt(d) * dayNs
      scope.spans.push({ traceId, spanId: randomId(rng, 8), parentSpanId: Buffer.alloc(0), name: `day-${d}`, kind: 1, start, end: start + NS_PER_MS, attributes: [], events: [], links: [] })
    }
    return `manyDays(${days})`
  },
  hugeAttributeCount(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'hugeAttributeCount(no span)'
    const n = rng.pick([1025, 5000])
    for (let k = 0; k < n; k++) sp.attributes.push({ key: `a${k}`, value: { int: BigInt(k) } })
    return `hugeAttributeCount(${n})`
  },
  deepNesting(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'deepNesting(no span)'
    const depth = rng.pick([17, 64, 90])
    sp.attributes.push({ key: 'deep', value: nested(rng, depth) })
    return `deepNesting(${depth})`
  },
  idLength(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'idLength(no span)'
    const field = rng.pick(['traceId', 'spanId', 'parentSpanId', 'linkTraceId'] as const)
    const len = rng.pick([0, 1, 7, 9, 15, 17, 32])
    const id = rng.bool(0.2) ? Buffer.alloc(field === 'spanId' || field === 'parentSpanId' ? 8 : 16) : rng.bytes(len)
    if (field === 'linkTraceId') sp.links.push({ traceId: id, spanId: randomId(rng, 8), attributes: [] })
    else sp[field] = id
    return `idLength(${field}=${id.length}B${id.every((b) => b === 0) ? ' zeros' : ''})`
  },
  invalidUtf8(rng, req) {
    const sp = anySpan(rng, req)
    const bad = invalidUtf8(rng)
    const where = rng.pick(['name', 'attrKey', 'attrValue', 'service', 'status', 'event', 'scope'] as const)
    if (where === 'service') setAttr(req.resources[0]?.attributes ?? [], 'service.name', { string: bad })
    else if (where === 'scope' && req.resources[0]?.scopes[0]) req.resources[0].scopes[0].name = bad
    else if (!sp) return 'invalidUtf8(no span)'
    else if (where === 'name') sp.name = bad
    else if (where === 'attrKey') sp.attributes.push({ key: bad, value: { string: 'v' } })
    else if (where === 'attrValue') setAttr(sp.attributes, rng.pick(['user.id', 'gen_ai.request.model', 'gen_ai.input.messages', 'x']), { string: bad })
    else if (where === 'status') sp.status = { code: 2, message: bad }
    else sp.events.push({ time: sp.start, name: bad, attributes: [] })
    return `invalidUtf8(${where})`
  },
  nastyStrings(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'nastyStrings(no span)'
    const v = nastyStr(rng)
    const where = rng.pick(['name', 'user.id', 'session.id', 'gen_ai.request.model', 'gen_ai.input.messages', 'gen_ai.output.messages', 'key', 'service.name'] as const)
    if (where === 'name') sp.name = v
    else if (where === 'key') sp.attributes.push({ key: v, value: { string: 'k' } })
    else if (where === 'service.name') setAttr(req.resources[0]?.attributes ?? [], 'service.name', { string: v })
    else setAttr(sp.attributes, where, { string: v })
    return `nastyStrings(${where})`
  },
  edgeNumbers(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'edgeNumbers(no span)'
    const key = rng.bool(0.7) ? rng.pick(TOKEN_KEYS) : rng.pick(NUMERIC_KEYS)
    const value = edgeNumberValue(rng)
    setAttr(sp.attributes, 'gen_ai.operation.name', { string: 'chat' })
    setAttr(sp.attributes, key, value)
    return `edgeNumbers(${key}=${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))})`
  },
  edgeEnums(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'edgeEnums(no span)'
    const v = rng.pick([-1, 0, 6, 99, 2 ** 31 - 1, -(2 ** 31)])
    if (rng.bool()) sp.kind = v
    else sp.status = { code: v, message: '' }
    return `edgeEnums(${v})`
  },
  edgeEventTime(rng, req) {
    const sp = anySpan(rng, req)
    if (!sp) return 'edgeEventTime(no span)'
    const [label, t] = rng.pick(EDGE_NANOS)
    sp.events.push({ time: t, name: 'e', attributes: [] })
    return `edgeEventTime(${label})`
  },
  empties(rng, req) {
    const what = rng.pick(['noSpans', 'noScopes', 'noResources', 'emptyName'] as const)
    if (what === 'noSpans' && req.resources[0]?.scopes[0]) req.resources[0].scopes[0].spans = []
    if (what === 'noScopes' && req.resources[0]) req.resources[0].scopes = []
    if (what === 'noResources') req.resources = []
    if (what === 'emptyName') for (const sp of spansOf(req)) sp.name = ''
    return `empties(${what})`
  },
}

export function mutateModel(rng: Rng, req: RequestModel, now: bigint): string {
  const name = rng.pick(Object.keys(MODEL_MUTATIONS))
  return (MODEL_MUTATIONS[name] as ModelMutation)(rng, req, now)
}
