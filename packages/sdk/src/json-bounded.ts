/**
 * JSON of an app's value, read only as far as a cut will keep it. `JSON.stringify` of an object holding
 * 50 MB of text builds all of it (~0.11 s of the app's thread) for 100,000 characters kept; the cut needs
 * the start of the JSON. A value that may be larger than the limit is written here up to the limit;
 * any other goes to `JSON.stringify` (V8's fast serializer, on the LLM call path every time).
 */

export interface BoundedJson {
  text: string
  /** Whether `text` is the whole JSON; otherwise its first `limit` characters or more. */
  complete: boolean
}

/** What stops the walk when the limit is reached. */
const FULL = Symbol('full')

/**
 * The JSON of `value` (`JSON.stringify`'s, a bigint as its decimal string), or its start when it is
 * longer than `limit`. Written here, a typed array or ArrayBuffer is `"[binary]"` (JSON.stringify spells
 * every byte as a key of an object). Undefined when `JSON.stringify` gives nothing (a function, a symbol);
 * throws where JSON.stringify throws (a cycle, a getter that throws).
 */
export function boundedJson(value: unknown, limit: number): BoundedJson | undefined {
  if (!mayExceed(value, limit)) {
    try {
      const text = JSON.stringify(value)
      return text === undefined ? undefined : { text, complete: true }
    } catch (err) {
      // A bigint: JSON.stringify refuses it; the walk below writes it as a string.
      if (!(err instanceof TypeError) || !String(err.message).includes('BigInt')) throw err
    }
  }
  const out: string[] = []
  let length = 0
  const ancestors: object[] = []
  const push = (s: string): void => {
    out.push(s)
    length += s.length
    if (length >= limit) throw FULL
  }
  const write = (v: unknown, key: string, inArray: boolean): boolean => {
    if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: (k: string) => unknown }).toJSON(key)
    if (v instanceof Number || v instanceof String || v instanceof Boolean) v = v.valueOf()
    switch (typeof v) {
      case 'string':
        // Escaped only as far as the limit: a 50 MB string inside is not escaped whole.
        push(v.length > limit - length ? JSON.stringify(v.slice(0, limit - length)).slice(0, -1) : JSON.stringify(v))
        return true
      case 'number':
        push(Number.isFinite(v) ? String(v) : 'null')
        return true
      case 'boolean':
        push(v ? 'true' : 'false')
        return true
      case 'bigint':
        push(`"${v.toString()}"`)
        return true
      case 'object':
        break
      default:
        // undefined, a function, a symbol: left out of an object, null in an array.
        if (inArray) push('null')
        return inArray
    }
    if (v === null) {
      push('null')
      return true
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
      push('"[binary]"')
      return true
    }
    if (ancestors.includes(v)) throw new TypeError('Converting circular structure to JSON')
    ancestors.push(v)
    if (Array.isArray(v)) {
      push('[')
      for (let i = 0; i < v.length; i++) {
        if (i > 0) push(',')
        write(v[i], String(i), true)
      }
      push(']')
    } else {
      push('{')
      let first = true
      for (const k of Object.keys(v)) {
        const at = out.length
        const before = length
        push(`${first ? '' : ','}${JSON.stringify(k)}:`)
        if (write((v as Record<string, unknown>)[k], k, false)) first = false
        else {
          out.length = at
          length = before
        }
      }
      push('}')
    }
    ancestors.pop()
    return true
  }
  try {
    if (!write(value, '', false)) return undefined
  } catch (err) {
    if (err !== FULL) throw err
    return { text: out.join(''), complete: false }
  }
  return { text: out.join(''), complete: true }
}

/**
 * Whether the JSON of `value` may be longer than `limit`: the length of its strings and keys, a
 * character for each other value, and a byte's two for binary data (a Buffer's toJSON writes each),
 * counted until they pass `limit`, so a cycle stops too. Another object's toJSON is not called (it is
 * the app's code, run once by the serializer) and counts for one character.
 */
function mayExceed(value: unknown, limit: number): boolean {
  try {
    return weigh(value, limit) < 0
  } catch {
    // Nested deeper than the stack (a cycle counted until the limit): the walk that writes decides.
    return true
  }
}

/** `budget` less what `v` counts for, down to below 0 at most. No closure: it runs on every LLM call's messages. */
function weigh(v: unknown, budget: number): number {
  if (typeof v === 'string') return budget - v.length - 2
  budget--
  if (typeof v !== 'object' || v === null) return budget
  if (ArrayBuffer.isView(v)) return budget - v.byteLength * 2
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return budget
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && budget >= 0; i++) budget = weigh(v[i], budget)
    return budget
  }
  for (const k in v) {
    if (budget < 0) return budget
    if (!hasOwn.call(v, k)) continue
    budget = weigh((v as Record<string, unknown>)[k], budget - k.length - 3)
  }
  return budget
}

const hasOwn = Object.prototype.hasOwnProperty
