/**
 * Reading OTLP JSON objects by proto3 JSON's rules, for every signal's JSON decoder:
 * fields by name, lists that must be lists, and how a wrong value is shown in a refusal.
 */

type Obj = Record<string, unknown>

/** A JSON value of the wrong type for its OTLP field. Where it is decides what is refused: its item, or (outside any item) the request. */
export class JsonTypeError extends TypeError {}

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A field by its JSON name or its proto name; absent is undefined. */
export function field(o: Obj, camel: string, snake: string): unknown {
  return o[camel] ?? o[snake]
}

/** A repeated field: absent is empty; anything but a list is refused. */
export function list(o: Obj, camel: string, snake: string): unknown[] {
  const v = field(o, camel, snake)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new JsonTypeError(`${camel} must be a list, not ${shown(v)}`)
  return v
}

/** A message field: absent is undefined; anything but an object is refused. */
export function message(o: Obj, camel: string, snake: string): Obj | undefined {
  const v = field(o, camel, snake)
  if (v === undefined || v === null) return undefined
  if (!isObj(v)) throw new JsonTypeError(`${camel} must be an object, not ${shown(v)}`)
  return v
}

/** A string field: absent is ''. */
export function text(o: Obj, camel: string, snake: string, name = camel): string {
  const v = field(o, camel, snake)
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
