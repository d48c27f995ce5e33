/**
 * Reading OTLP JSON objects by proto3 JSON's rules, for every signal's JSON decoder:
 * fields by name, lists that must be lists, and how a wrong value is shown in a refusal.
 */

type Obj = Record<string, unknown>

/** A JSON value of the wrong type for its OTLP field. Where it is decides what is refused: its item, or (outside any item) the request. */
export class JsonTypeError extends TypeError {}

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * A field's proto name, from its lowerCamelCase JSON name: proto3 JSON parsers accept
 * both (the mapping asks them to), and OTLP field names map one to one. Derived here,
 * once per name, so no field is read by one spelling only.
 */
export function protoName(camel: string): string {
  let name = protoNames.get(camel)
  if (name === undefined) {
    name = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    protoNames.set(camel, name)
  }
  return name
}
const protoNames = new Map<string, string>()

/** A field by its JSON name or its proto name (the JSON name when both are sent, which the mapping leaves undefined); absent is undefined. */
export function field(o: Obj, camel: string): unknown {
  return o[camel] ?? o[protoName(camel)]
}

/** A repeated field: absent is empty; anything but a list is refused. */
export function list(o: Obj, camel: string): unknown[] {
  const v = field(o, camel)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new JsonTypeError(`${camel} must be a list, not ${shown(v)}`)
  return v
}

/** A message field: absent is undefined; anything but an object is refused. */
export function message(o: Obj, camel: string): Obj | undefined {
  const v = field(o, camel)
  if (v === undefined || v === null) return undefined
  if (!isObj(v)) throw new JsonTypeError(`${camel} must be an object, not ${shown(v)}`)
  return v
}

/** A string field: absent is ''. */
export function text(o: Obj, camel: string, name = camel): string {
  const v = field(o, camel)
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw new JsonTypeError(`${name} must be a string, not ${shown(v)}`)
  return v
}

/** A JSON value as a refusal shows it: short, and never the whole of a large one. */
export function shown(v: unknown): string {
  if (Array.isArray(v)) return 'a list'
  if (v !== null && typeof v === 'object') return 'an object'
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}
