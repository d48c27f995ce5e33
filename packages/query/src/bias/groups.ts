import { contentText } from '../content/text.js'
import type { ParamBag } from '../db.js'
import { errors } from '../errors.js'
import { GROUP_KEYS_HELP, type GroupKey, groupKey } from '../group-keys.js'

/** A `groupBy` key as SQL over `spans` (group-keys.ts), or a 400 naming it. */
export function groupExpr(key: string, bag: ParamBag): GroupKey {
  const g = groupKey(key, bag)
  if (!g) throw errors.BAD_REQUEST(`groupBy: expected ${GROUP_KEYS_HELP}, got "${key}"`)
  return g
}

/** The default refusal phrases, 005_refusal.sql's list. */
export { REFUSAL_PHRASES } from './refusal-phrases.js'

/**
 * With the default phrases, the `refusal` column computed at insert
 * (clickhouse/005_refusal.sql, same list); custom phrases scan the completion's text
 * (content/text.ts), where a phrase with a quote or a line break reads as written, not
 * JSON-escaped, and a tool call's arguments do not count.
 */
export function refusalExpr(phrasesParam: string | null): string {
  if (phrasesParam === null) return 'refusal = 1'
  return `(finish_reason = 'content_filter' OR multiSearchAnyCaseInsensitive(${contentText('output')}, ${phrasesParam}))`
}
