import type { ParamBag } from './db.js'

/** The model a span ran on: what was asked for, or what answered when the request did not say. */
export const MODEL_EXPR = "if(request_model != '', request_model, response_model)"

/** The keys spans can be grouped by (bias's `groupBy`) and filtered on (`group.<key>=<value>`). */
export const GROUP_KEYS_HELP = 'attr:<key>, resource:<key>, user_prefix:<n>, user, language, model, service, environment, release or provider'

export interface GroupKey {
  /** SQL over unaliased `spans` columns */
  expr: string
  /** attr: and resource: keys: the map column and the key */
  map?: { column: 'attributes' | 'resource_attributes'; key: string }
  /** reads the input: content that arrived as log records counts (content/span-content.ts) */
  content?: true
}

/**
 * A group key as SQL, its values through `bag`; null when `key` is none. Derived
 * `language` is the writing system of the prompt (ClickHouse has no language detector
 * in chDB): zh, ja, ko, ru (Cyrillic), ar, hi (Devanagari), el, he, th, latin, or unknown.
 * One expression per key: a bias group and the traces filter that reproduces it read
 * the same SQL, so the filter selects exactly the group's spans.
 */
export function groupKey(key: string, bag: ParamBag): GroupKey | null {
  const [kind, ...rest] = key.split(':')
  const arg = rest.join(':')
  switch (kind) {
    case 'attr':
      return arg ? { expr: `attributes[${bag.add(arg, 'String')}]`, map: { column: 'attributes', key: arg } } : null
    case 'resource':
      return arg ? { expr: `resource_attributes[${bag.add(arg, 'String')}]`, map: { column: 'resource_attributes', key: arg } } : null
    case 'user_prefix': {
      // Digits only: Number() reads 0x3 and 1e1 too, naming one group key several ways.
      const n = /^\d+$/.test(arg) ? Number(arg) : Number.NaN
      return n > 0 && n <= 256 ? { expr: `substringUTF8(user_id, 1, ${bag.add(n, 'UInt16')})` } : null
    }
    case 'user':
      return { expr: 'user_id' }
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
        content: true,
      }
    case 'model':
      return { expr: MODEL_EXPR }
    case 'service':
      return { expr: 'toString(service_name)' }
    case 'environment':
    case 'release':
    case 'provider':
      return { expr: `toString(${kind})` }
  }
  return null
}
