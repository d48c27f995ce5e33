import { z } from 'zod'
import { errors, type SpanlensError } from './errors.js'

/**
 * The one number notation of every parameter that takes a fraction (`minDurationMs`, span
 * number and score conditions, `attrNum.`): decimal, with an optional fraction and exponent
 * (`250`, `.5`, `1.5e3`, `1e-7`, which drift bins write). JavaScript's Number() also reads
 * `0x10`, `0b11`, `Infinity` and the empty text (as 0), none of which a user means as a number.
 */
export const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/**
 * A count parameter (`limit`): digits only, from 1 to `max`; absent, `def`. Number() would
 * read `0x10` as 16 and `1e2` as 100.
 */
export function parseLimit(raw: string | undefined, def: number, max: number, field = 'limit'): number {
  if (raw === undefined) return def
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!(n >= 1 && n <= max)) throw errors.BAD_REQUEST(`${field}: expected a whole number from 1 to ${max}, got "${raw.slice(0, 40)}"`)
  return n
}

/** A yes/no value as every route takes it: a boolean in JSON, `1`, `true`, `0` or `false` in a query string. */
export const FLAG = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false']).transform((v) => v === '1' || v === 'true')], { error: 'expected 1, true, 0 or false' })

/** The query parameter `name` as a yes/no (absent: no); anything else (`io=yes`) is a 400 naming it, not read as no. */
export function parseFlag(q: Record<string, unknown>, name: string): boolean {
  const v = q[name]
  if (v === undefined) return false
  const parsed = FLAG.safeParse(v)
  if (!parsed.success) throw errors.BAD_REQUEST(`${name}: expected 1, true, 0 or false`)
  return parsed.data
}

/** A list whose items must each be given once (signals, groupBy keys): the first repeated one is a 400 naming `field`. */
export function refuseRepeats(values: readonly string[], field: string): void {
  const twice = values.find((v, i) => values.indexOf(v) !== i)
  if (twice !== undefined) throw errors.BAD_REQUEST(`${field}: ${twice} is named twice`)
}

/**
 * Parameters whose empty value selects something: the spans without a user or a session
 * (`userId=`), without the attribute (`attr.<key>=`, `resource.<key>=`, as the attributes map
 * reads a missing key), or in a group key's empty group (`group.<key>=`), `not.` ones too.
 * The filter's JSON form takes "" for the same fields (filters.unit.test.ts compares them).
 */
const EMPTY_IS_A_VALUE = /^(not\.)?(userId|sessionId|(attr|resource|group)\..+)$/

/**
 * A query string with each parameter given once and none empty. Fastify reads `a=1&a=2` as a
 * list; a reader keeping one of its values (`q=a&q=b` searching b) would answer another
 * question than the one asked. An empty value is a slip as often as a choice: read as no
 * condition, `service=` answers for every span. Every route reads its query string through
 * here, so each is the same 400 naming the parameter everywhere, EMPTY_IS_A_VALUE aside.
 */
export function oneValueEach(q: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue
    if (Array.isArray(v)) throw errors.BAD_REQUEST(`${k}: expected one value, got ${v.length} (a list is one value, comma-separated)`)
    const value = String(v)
    if (value === '' && !EMPTY_IS_A_VALUE.test(k)) throw errors.BAD_REQUEST(`${k}: must not be empty; leave it out for its default or no condition`)
    out[k] = value
  }
  return out
}

/** The query parameters a route reads: `names` (`attr.<key>` stands for every name that starts `attr.`), and the span filters' when `filters` says which (filters.ts, isFilterParam). */
export interface RouteParams {
  names: readonly string[]
  filters?: (name: string) => boolean
}

/**
 * Refuses a query parameter the route does not read, naming it first, in one form on every
 * route: read by nothing, it was dropped unsaid (`/traces/<id>?spanId=…` answered the whole trace).
 */
export function onlyParams(q: Record<string, unknown>, route: string, params: RouteParams): void {
  const { names, filters } = params
  const reads = (k: string) => names.some((n) => (n.endsWith('<key>') ? k.startsWith(n.slice(0, -'<key>'.length)) : k === n)) || filters?.(k) === true
  for (const k of Object.keys(q)) {
    if (reads(k)) continue
    const own = names.join(', ')
    const takes = filters ? `${own}${own ? ' and ' : ''}the span filters (docs/api.md, "Filters")` : own || 'none'
    throw errors.BAD_REQUEST(`${k}: not a parameter of ${route}, which takes ${takes}`)
  }
}

/** A field's path as a reader writes it: `filter.ttftMs`, `signals[1]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('')
}

/**
 * A zod error as the 400 every route answers for a bad parameter or body field, in one form:
 * `<field path>: <why>` (`filter.ttftMs: expected conditions such as >1000 …`), the path first
 * as docs/api.md promises, one clause per field, without zod's pretty-printing (its `✖` and
 * `→ at` put the field last). `name` spells a path; `filters.ts` names a filter's fields by
 * their query-string names.
 */
export function invalidFields(error: z.ZodError, name: (path: readonly PropertyKey[]) => string = fieldPath): SpanlensError {
  const clauses = new Map<string, string>()
  for (const issue of error.issues) {
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path]
    for (const path of paths) {
      const field = name(path) || 'body'
      // The first reason per field: a value failing a pattern fails the refinements after it too.
      if (!clauses.has(field)) clauses.set(field, `${field}: ${reason(issue)}`)
    }
  }
  return errors.BAD_REQUEST([...clauses.values()].join('; '))
}

/**
 * Why a field failed, in our words where zod's own would show through: its messages name its
 * categories (`Invalid key in record`, `Invalid input: expected string, received undefined`,
 * `Invalid string: must match pattern /…/`), where a reader wants what the field takes.
 */
function reason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return /^Unrecognized key/.test(issue.message) ? 'not a field here' : issue.message
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty'
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input') return 'not one of the forms it takes (docs/api.md)'
  // A map's key (`score.<name>`, `attr.<key>`): its path ends with the key, so the field names it.
  if (issue.code === 'invalid_key') {
    const why = issue.issues[0] === undefined ? 'is not valid' : reason(issue.issues[0])
    return /^must /.test(why) ? `the key ${why}` : `the key: ${why}`
  }
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return 'required'
  if (issue.code === 'invalid_type' && issue.expected === 'int') return 'expected a whole number'
  // zod's own messages lead with a category (`Invalid input: `, `Too small: `, `Invalid string: `).
  return issue.message.replace(/^(?:Invalid|Too) [a-z]+: /, '')
}
