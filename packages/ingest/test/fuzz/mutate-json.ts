import type { Json } from './model.js'
import { INVALID_UTF8 } from './mutate-model.js'
import type { Rng } from './rng.js'

/**
 * Mutations of OTLP JSON: on the parsed object (values of the wrong type, numbers
 * JSON can write but int64/fixed64 cannot hold, ids in other forms) and on the
 * text (duplicate keys, invalid UTF-8 inside strings, lone surrogates, cuts).
 */
type Obj = { [k: string]: Json }
interface Slot {
  parent: Obj | Json[]
  key: string | number
  path: string
}

function slots(root: Json, path = '$'): Slot[] {
  const out: Slot[] = []
  if (Array.isArray(root)) root.forEach((v, i) => (out.push({ parent: root, key: i, path: `${path}[${i}]` }), out.push(...slots(v, `${path}[${i}]`))))
  else if (root !== null && typeof root === 'object') {
    for (const [k, v] of Object.entries(root)) {
      out.push({ parent: root, key: k, path: `${path}.${k}` })
      out.push(...slots(v, `${path}.${k}`))
    }
  }
  return out
}

const set = (s: Slot, v: Json) => ((s.parent as Record<string | number, Json>)[s.key] = v)

/** Numbers and strings that an int64/fixed64 JSON field must either parse exactly or refuse. */
export const JSON_EDGE_NUMBERS: readonly Json[] = [
  1e30, -1, 1.5, 0, -0, 2 ** 53 + 2, 1.8446744073709552e19, 9.223372036854776e18,
  '1e30', '1e3', ' 12', '12 ', '0x10', '+5', '-0', '', 'NaN', 'Infinity', '-Infinity',
  '18446744073709551615', '18446744073709551616', '9223372036854775807', '9223372036854775808', '99999999999999999999999',
  '00000000000000000001', null, true, [], {},
]

const KEYED = (re: RegExp) => (s: Slot) => typeof s.key === 'string' && re.test(s.key)

export const JSON_MUTATIONS: Record<string, (rng: Rng, root: Obj) => string> = {
  edgeTime(rng, root) {
    const all = slots(root).filter(KEYED(/UnixNano$/))
    if (all.length === 0) return 'edgeTime(none)'
    const s = rng.pick(all)
    const v = rng.pick(JSON_EDGE_NUMBERS)
    set(s, v)
    return `json.edgeTime(${s.path}=${JSON.stringify(v)})`
  },
  edgeIntValue(rng, root) {
    const all = slots(root).filter(KEYED(/^(intValue|doubleValue|kind|code|droppedAttributesCount)$/))
    if (all.length === 0) return 'edgeIntValue(none)'
    const s = rng.pick(all)
    const v = rng.pick(JSON_EDGE_NUMBERS)
    set(s, v)
    return `json.edgeNumber(${s.path}=${JSON.stringify(v)})`
  },
  idForms(rng, root) {
    const all = slots(root).filter(KEYED(/^(traceId|spanId|parentSpanId)$/))
    if (all.length === 0) return 'idForms(none)'
    const s = rng.pick(all)
    const cur = String((s.parent as Record<string | number, Json>)[s.key])
    const v = rng.pick<Json>([
      cur.toUpperCase(),
      Buffer.from(cur, 'hex').toString('base64'),
      cur.slice(1),
      `${cur}0`,
      `${cur}${cur}`,
      'zz'.repeat(cur.length / 2),
      '0'.repeat(cur.length),
      '',
      123,
      null,
      [1, 2, 3],
      ` ${cur}`,
    ])
    set(s, v)
    return `json.idForm(${s.path}=${JSON.stringify(v)})`
  },
  typeSwap(rng, root) {
    const all = slots(root)
    if (all.length === 0) return 'typeSwap(none)'
    const s = rng.pick(all)
    const v = rng.pick<Json>([null, 0, 'x', true, [], {}, [{}], { stringValue: 'x' }])
    set(s, v)
    return `json.typeSwap(${s.path}=${JSON.stringify(v)})`
  },
  dropKey(rng, root) {
    const all = slots(root).filter((s) => typeof s.key === 'string')
    if (all.length === 0) return 'dropKey(none)'
    const s = rng.pick(all)
    delete (s.parent as Obj)[s.key as string]
    return `json.dropKey(${s.path})`
  },
  unknownKeys(rng, root) {
    const objs = slots(root).map((s) => (s.parent as Record<string | number, Json>)[s.key]).filter((v): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v))
    const target = objs.length > 0 ? rng.pick(objs) : root
    target[rng.pick(['unknown', '__proto__x', 'constructor', 'toString', 'start_time_unix_nano', 'trace_id'])] = rng.pick<Json>([1, 'x', { a: [1] }, null])
    return 'json.unknownKeys'
  },
  snakeCase(rng, root) {
    const all = slots(root).filter(KEYED(/^(traceId|spanId|startTimeUnixNano|endTimeUnixNano|scopeSpans|resourceSpans|stringValue|intValue)$/))
    if (all.length === 0) return 'snakeCase(none)'
    const s = rng.pick(all)
    const parent = s.parent as Obj
    const key = s.key as string
    const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    parent[snake] = parent[key] as Json
    if (rng.bool()) delete parent[key]
    return `json.snakeCase(${s.path})`
  },
  nestArrays(rng, root) {
    const all = slots(root).filter(KEYED(/^value$/))
    if (all.length === 0) return 'nestArrays(none)'
    const depth = rng.pick([20, 200, 3000])
    // Written out by deepenJsonText: JSON.stringify itself would overflow the stack.
    set(rng.pick(all), { [DEEP_MARK]: depth })
    return `json.nestArrays(${depth})`
  },
}

const DEEP_MARK = '@@deep'

/** Replaces each {"@@deep": n} left by nestArrays with n levels of arrayValue around a string. */
export function deepenJsonText(text: string): string {
  return text.replace(/\{"@@deep":(\d+)\}/g, (_m, n: string) => {
    const depth = Number(n)
    return `${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"leaf"}${']}}'.repeat(depth)}`
  })
}

export function mutateJsonObject(rng: Rng, root: Obj): string {
  const name = rng.pick(Object.keys(JSON_MUTATIONS))
  return (JSON_MUTATIONS[name] as (rng: Rng, root: Obj) => string)(rng, root)
}

/** Text-level mutations: what JSON.stringify never writes but a broken exporter or an attacker can. */
/** `text` is the body's bytes as latin1 (one char per byte), so raw invalid UTF-8 in it survives. */
export function mutateJsonText(rng: Rng, text: string): { body: Buffer; label: string } {
  const kind = rng.pick(['duplicateKey', 'invalidUtf8InString', 'loneSurrogate', 'bigExponent', 'bom', 'truncate', 'nulByte', 'deepText'] as const)
  const b = (t: string) => Buffer.from(t, 'latin1')
  const strings = [...text.matchAll(/"(?:name|stringValue|key)":"/g)]
  switch (kind) {
    case 'duplicateKey': {
      const m = [...text.matchAll(/"(name|startTimeUnixNano|traceId|spanId|kind)":/g)]
      if (m.length === 0) return { body: b(text), label: 'json.duplicateKey(none)' }
      const hit = rng.pick(m)
      const dup = hit[1] === 'kind' ? '"kind":"x",' : hit[1] === 'startTimeUnixNano' ? '"startTimeUnixNano":"1",' : `"${hit[1]}":"00",`
      const at = hit.index as number
      return { body: b(text.slice(0, at) + dup + text.slice(at)), label: `json.duplicateKey(${hit[1]})` }
    }
    case 'invalidUtf8InString': {
      if (strings.length === 0) return { body: b(text), label: 'json.invalidUtf8(none)' }
      const hit = rng.pick(strings)
      const cut = (hit.index as number) + hit[0].length
      return { body: Buffer.concat([b(text.slice(0, cut)), rng.pick(INVALID_UTF8), b(text.slice(cut))]), label: 'json.invalidUtf8InString' }
    }
    case 'loneSurrogate': {
      if (strings.length === 0) return { body: b(text), label: 'json.loneSurrogate(none)' }
      const hit = rng.pick(strings)
      const at = (hit.index as number) + hit[0].length
      return { body: b(text.slice(0, at) + rng.pick(['\\ud800', '\\udfff', '\\u0000', '\\ud83d']) + text.slice(at)), label: 'json.loneSurrogate' }
    }
    case 'bigExponent': {
      const m = [...text.matchAll(/"(startTimeUnixNano|endTimeUnixNano|intValue|timeUnixNano)":"(\d+)"/g)]
      if (m.length === 0) return { body: b(text), label: 'json.bigExponent(none)' }
      const hit = rng.pick(m)
      const v = rng.pick(['1e30', '1e400', '-1e400', '1E+19', '18446744073709551616', '1.0', '-0.0'])
      const at = hit.index as number
      return { body: b(text.slice(0, at) + `"${hit[1]}":${v}` + text.slice(at + hit[0].length)), label: `json.bigExponent(${hit[1]}=${v})` }
    }
    case 'bom':
      return { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b(text)]), label: 'json.bom' }
    case 'truncate': {
      const at = rng.int(0, Math.max(0, text.length - 1))
      return { body: b(text.slice(0, at)), label: `json.truncate(${at}/${text.length})` }
    }
    case 'nulByte': {
      const at = rng.int(0, text.length)
      return { body: b(`${text.slice(0, at)}\0${text.slice(at)}`), label: 'json.nulByte' }
    }
    case 'deepText': {
      const depth = rng.pick([1000, 100_000])
      return { body: b(`{"resourceSpans":${'['.repeat(depth)}${']'.repeat(depth)}}`), label: `json.deepText(${depth})` }
    }
  }
}
