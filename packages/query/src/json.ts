/**
 * The routes' reply serializer: JSON.stringify, and where that runs out of stack, the
 * same text written from an explicit stack.
 *
 * JSON.stringify recurses once per level. A trace is a tree (each span an object holding
 * its children's array), and a chain of spans each the child of the last, which an async
 * loop that keeps its span active produces, overflowed it at ~2,400 spans deep: the
 * reply was a 500 and the trace could not be opened. JSON.parse is not limited so.
 */
export function stringifyReply(payload: unknown): string {
  try {
    return JSON.stringify(payload)
  } catch (err) {
    if (err instanceof RangeError) return stringifyDeep(payload) ?? 'null'
    throw err
  }
}

/** Far beyond any reply (a trace's tree holds 10,000 spans, two levels each). */
const MAX_DEPTH = 1_000_000

type Frame = { array: unknown[]; i: number } | { object: Record<string, unknown>; keys: string[]; i: number; written: number }

/**
 * JSON.stringify(value) for plain data (objects, arrays, strings, numbers, booleans, null,
 * and values with toJSON such as Date), nested up to MAX_DEPTH. Undefined, functions and
 * symbols are left out of objects and written as null in arrays, as JSON.stringify does.
 * A cycle throws once it passes MAX_DEPTH: tracking the open objects in a Set instead made
 * a 20,000-deep tree 4× slower to write (each object given an identity hash).
 */
export function stringifyDeep(value: unknown): string | undefined {
  const out: string[] = []
  const stack: Frame[] = []
  const emit = (v: object | string | number | boolean | null): void => {
    if (v === null || typeof v !== 'object') {
      out.push(typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v))
      return
    }
    if (stack.length >= MAX_DEPTH) throw new TypeError(`Converting circular structure to JSON, or one nested over ${MAX_DEPTH} deep`)
    if (Array.isArray(v)) {
      out.push('[')
      stack.push({ array: v, i: 0 })
    } else {
      out.push('{')
      stack.push({ object: v as Record<string, unknown>, keys: Object.keys(v), i: 0, written: 0 })
    }
  }
  const root = prepare(value, '')
  if (root === undefined) return undefined
  emit(root)
  while (stack.length > 0) {
    const f = stack[stack.length - 1] as Frame
    if ('array' in f) {
      if (f.i === f.array.length) {
        out.push(']')
        stack.pop()
        continue
      }
      const i = f.i++
      if (i > 0) out.push(',')
      const v = prepare(f.array[i], String(i))
      if (v === undefined) out.push('null')
      else emit(v)
    } else {
      if (f.i === f.keys.length) {
        out.push('}')
        stack.pop()
        continue
      }
      const key = f.keys[f.i++] as string
      const v = prepare(f.object[key], key)
      if (v === undefined) continue
      out.push(`${f.written++ > 0 ? ',' : ''}${JSON.stringify(key)}:`)
      emit(v)
    }
  }
  return out.join('')
}

/** The value as JSON.stringify would write it (after toJSON), or undefined when it would leave it out. */
function prepare(raw: unknown, key: string): object | string | number | boolean | null | undefined {
  let v = raw
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(k: string): unknown }).toJSON(key)
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined
  // A bigint throws JSON.stringify's own TypeError from emit.
  return v as object | string | number | boolean | null
}
