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
