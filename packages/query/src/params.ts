import { z } from 'zod'
import { errors } from './errors.js'

/** A yes/no value as every route takes it: a boolean in JSON, `1`, `true`, `0` or `false` in a query string. */
export const FLAG = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false']).transform((v) => v === '1' || v === 'true')])

/** The query parameter `name` as a yes/no (absent or empty: no); anything else (`io=yes`) is a 400 naming it, not read as no. */
export function parseFlag(q: Record<string, unknown>, name: string): boolean {
  const v = q[name]
  if (v === undefined || v === '') return false
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
 * A query string with each parameter given once. Fastify reads `a=1&a=2` as a list, and every
 * reader kept one value unsaid: the last (`q=a&q=b` searched b), or none
 * (`groupBy=model&groupBy=service` answered ungrouped). Every route reads its query string
 * through here, so a repeated key is the same 400 naming it everywhere; a list is one value,
 * comma-separated.
 */
export function oneValueEach(q: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue
    if (Array.isArray(v)) throw errors.BAD_REQUEST(`${k}: expected one value, got ${v.length} (a list is one value, comma-separated)`)
    out[k] = String(v)
  }
  return out
}
