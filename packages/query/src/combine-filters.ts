import { errors } from './errors.js'
import type { SpanFilter } from './filters.js'
import { formatCondition, type NumberCondition, SPAN_NUMBER_KEYS } from './span-numbers.js'

type ListField = 'service' | 'model' | 'provider' | 'operation' | 'kind' | 'name' | 'status' | 'environment' | 'release' | 'tag'
const LISTS: readonly ListField[] = ['service', 'model', 'provider', 'operation', 'kind', 'name', 'status', 'environment', 'release', 'tag']
/** Fields a span has one value of: both filters must give the same. */
const VALUES = ['userId', 'sessionId', 'traceId', 'text', 'refusal'] as const
/** Map fields, each key a condition of its own, by their query-string names (errors name them so). */
const MAPS = { attributes: 'attr', resource: 'resource', groups: 'group' } as const
const QUERY_NAME: Record<string, string> = { text: 'q' }

/**
 * The spans both filters select, as one filter: every condition of either holds. A drift
 * side is combined so with the request's shared `filter`: a side that names its own window
 * still reads within `filter.from`, and a side's score condition adds to the filter's.
 *
 * Time windows intersect; duration bounds take the tighter; conditions on numbers, and on
 * numeric attributes, all apply. A list of either may narrow the other (`service` [a, b]
 * and [a] is [a]); lists that neither hold, and fields of one value (a user, an attribute's
 * value, a score's condition, `not`) given two different ways, are a 400 naming the side's
 * field: no span meets both, or one filter cannot say it. A score condition `*` (has one)
 * gives way to the other's condition on that score, which implies it.
 */
export function combineFilters(filter: SpanFilter, side: SpanFilter, sideName: string): SpanFilter {
  const out: SpanFilter = { ...filter }
  const conflict = (field: string, mine: unknown, theirs: unknown, why = 'no span has both') =>
    errors.BAD_REQUEST(`${sideName}.${field}: ${JSON.stringify(mine)} and filter.${field} ${JSON.stringify(theirs)} do not combine; ${why}`)

  if (side.from && (!out.from || side.from > out.from)) out.from = side.from
  if (side.to && (!out.to || side.to < out.to)) out.to = side.to
  if (out.from && out.to && out.from >= out.to) {
    throw errors.BAD_REQUEST(`${sideName}: its time window and filter's do not overlap (${out.from.toISOString()} is not before ${out.to.toISOString()})`)
  }

  for (const k of LISTS) {
    const mine = side[k]
    const theirs = out[k]
    if (mine === undefined || (theirs !== undefined && theirs.every((v) => (mine as string[]).includes(v)))) continue
    if (theirs !== undefined && !mine.every((v) => (theirs as string[]).includes(v))) {
      throw conflict(k, mine, theirs, 'either list must hold the other (a span of model or tag matches a list two ways, so values in common are not the same condition)')
    }
    out[k] = mine as never
  }

  for (const k of VALUES) {
    const mine = side[k]
    if (mine === undefined) continue
    if (out[k] !== undefined && out[k] !== mine) throw conflict(QUERY_NAME[k] ?? k, mine, out[k])
    ;(out as Record<string, unknown>)[k] = mine
  }

  if (side.minDurationMs !== undefined) out.minDurationMs = Math.max(side.minDurationMs, out.minDurationMs ?? 0)
  if (side.maxDurationMs !== undefined) out.maxDurationMs = Math.min(side.maxDurationMs, out.maxDurationMs ?? Number.POSITIVE_INFINITY)
  for (const k of SPAN_NUMBER_KEYS) if (side[k] !== undefined) out[k] = allOf(out[k], side[k])
  if (side.attributeNumbers !== undefined) {
    const numbers = { ...out.attributeNumbers }
    for (const [key, c] of Object.entries(side.attributeNumbers)) numbers[key] = allOf(numbers[key], c)
    out.attributeNumbers = numbers
  }

  for (const [field, name] of Object.entries(MAPS) as Array<[keyof typeof MAPS, string]>) {
    const mine = side[field]
    if (mine === undefined) continue
    const merged: Record<string, string> = { ...out[field] }
    for (const [key, value] of Object.entries(mine)) {
      if (merged[key] !== undefined && merged[key] !== value) throw conflict(`${name}.${key}`, value, merged[key])
      merged[key] = value
    }
    out[field] = merged
  }

  if (side.scores !== undefined) {
    const scores = { ...out.scores }
    for (const [key, cond] of Object.entries(side.scores)) {
      const theirs = scores[key]
      if (theirs === undefined || theirs.op === 'any') scores[key] = cond
      else if (cond.op !== 'any' && JSON.stringify(cond) !== JSON.stringify(theirs)) {
        // Two conditions on a score's value may hold for two different scores of one trace, which one condition cannot say.
        throw conflict(`score.${key}`, describeScore(cond), describeScore(theirs), 'give one condition on the score, in the filter or the side')
      }
    }
    out.scores = scores
  }

  if (side.not !== undefined) {
    // NOT a AND NOT b is not NOT (a AND b): two different `not`s cannot be one.
    if (out.not !== undefined && JSON.stringify(out.not) !== JSON.stringify(side.not)) {
      throw conflict('not', side.not, out.not, 'give the conditions to exclude in one of them')
    }
    out.not = side.not
  }
  return out
}

/** Conditions that must all hold, each once. */
function allOf(a: NumberCondition[] | undefined, b: NumberCondition[]): NumberCondition[] {
  const seen = new Set((a ?? []).map(formatCondition))
  return [...(a ?? []), ...b.filter((c) => !seen.has(formatCondition(c)))]
}

function describeScore(c: NonNullable<SpanFilter['scores']>[string]): string {
  return c.op === 'any' ? '*' : c.op === 'value' ? c.conditions.map(formatCondition).join(',') : c.value
}
