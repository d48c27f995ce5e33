/**
 * Default refusal phrases (ASCII case-insensitive substrings of the completion; ASCII
 * search is several times faster than UTF-8). clickhouse/005_refusal.sql computes the
 * `refusal` column from the same list (bias.test.ts checks). A module of its own so that
 * filters.ts can use it without importing bias/groups.ts, which imports filters.ts.
 */
export const REFUSAL_PHRASES = [
  "i can't help with",
  'i cannot help with',
  "i can't assist",
  'i cannot assist',
  "i'm sorry, but i can",
  "i'm not able to",
  'i am not able to',
  "i'm unable to",
  'i am unable to',
  "i won't be able to",
  'as an ai language model',
  'i must decline',
  'i cannot provide',
  "i can't provide",
  'i cannot comply',
]
