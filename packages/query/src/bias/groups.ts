import { errors } from '../errors.js'
import { MODEL_EXPR } from '../filters.js'

/**
 * A group key as SQL over `spans`. Derived `language` is the writing system of the
 * prompt (ClickHouse has no language detector in chDB): zh, ja, ko, ru (Cyrillic),
 * ar, hi (Devanagari), el, he, th, latin, or unknown.
 */
export function groupExpr(key: string): { expr: string; params: Record<string, unknown>; mapColumn?: 'attributes' | 'resource_attributes' } {
  const [kind, ...rest] = key.split(':')
  const arg = rest.join(':')
  switch (kind) {
    case 'attr':
      if (arg) return { expr: 'attributes[{g_key:String}]', params: { g_key: arg }, mapColumn: 'attributes' }
      break
    case 'resource':
      if (arg) return { expr: 'resource_attributes[{g_key:String}]', params: { g_key: arg }, mapColumn: 'resource_attributes' }
      break
    case 'user_prefix': {
      const n = Number(arg)
      if (Number.isInteger(n) && n > 0 && n <= 256) return { expr: `substringUTF8(user_id, 1, ${n})`, params: {} }
      break
    }
    case 'user':
      return { expr: 'user_id', params: {} }
    case 'language':
      return {
        expr: `multiIf(
          match(input, '[\\\\p{Hiragana}\\\\p{Katakana}]'), 'ja',
          match(input, '\\\\p{Han}'), 'zh',
          match(input, '\\\\p{Hangul}'), 'ko',
          match(input, '\\\\p{Cyrillic}'), 'ru',
          match(input, '\\\\p{Arabic}'), 'ar',
          match(input, '\\\\p{Devanagari}'), 'hi',
          match(input, '\\\\p{Greek}'), 'el',
          match(input, '\\\\p{Hebrew}'), 'he',
          match(input, '\\\\p{Thai}'), 'th',
          match(input, '\\\\p{Latin}'), 'latin',
          'unknown')`,
        params: {},
      }
    case 'model':
      return { expr: MODEL_EXPR, params: {} }
    case 'service':
      return { expr: 'toString(service_name)', params: {} }
    case 'environment':
    case 'release':
    case 'provider':
      return { expr: `toString(${kind})`, params: {} }
  }
  throw errors.BAD_REQUEST(
    `groupBy: expected attr:<key>, resource:<key>, user_prefix:<n>, user, language, model, service, environment, release or provider, got "${key}"`,
  )
}

/** The default refusal phrases, 005_refusal.sql's list. */
export { REFUSAL_PHRASES } from './refusal-phrases.js'

/**
 * With the default phrases, the `refusal` column computed at insert
 * (clickhouse/005_refusal.sql, same list); custom phrases scan the completion.
 */
export function refusalExpr(phrasesParam: string | null): string {
  if (phrasesParam === null) return 'refusal = 1'
  return `(finish_reason = 'content_filter' OR multiSearchAnyCaseInsensitive(output, ${phrasesParam}))`
}
