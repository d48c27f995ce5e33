// A score's value between the API and the editor's text field. The API stores a JSON
// number as NUMERIC, a boolean as BOOLEAN (value 1 or 0) and a string as CATEGORICAL
// (docs/api.md, POST /api/v1/scores): what is posted decides the type, so an edit posts
// the type the score has.

/** The fields of a stored score that hold its value. */
export interface StoredValue {
  value: number | null
  stringValue: string
  dataType: string
}

export type ScoreValue = number | boolean | string

/** The value as the API took it: a BOOLEAN's 1 is `true`, a CATEGORICAL's is its label. */
export function storedValue(s: StoredValue): ScoreValue {
  if (s.dataType === 'BOOLEAN') return s.value === 1
  if (s.dataType === 'CATEGORICAL' || s.value === null) return s.stringValue
  return s.value
}

/** A stored value as text: `0.8`, `true`, `friendly`. */
export const scoreText = (s: StoredValue): string => String(storedValue(s))

const TRUE = /^(true|1)$/i
const FALSE = /^(false|0)$/i

/**
 * What to post for the text typed. Editing a score keeps its type: a BOOLEAN takes true or
 * false (or 1, 0), a NUMERIC a number, a CATEGORICAL any label, even one that reads as a
 * number. A new score is a number when the text is one, a boolean for true or false, else a
 * label. `error` says what a score of that type takes.
 */
export function parseScoreValue(text: string, dataType?: string): { value: ScoreValue } | { error: string } {
  const t = text.trim()
  const number = t !== '' && Number.isFinite(Number(t)) ? Number(t) : undefined
  switch (dataType) {
    case 'BOOLEAN':
      return TRUE.test(t) ? { value: true } : FALSE.test(t) ? { value: false } : { error: `this score is true or false, not "${t}"` }
    case 'NUMERIC':
      return number !== undefined ? { value: number } : { error: `this score is a number, not "${t}"` }
    case 'CATEGORICAL':
      return { value: t }
    default:
      if (number !== undefined) return { value: number }
      if (/^(true|false)$/i.test(t)) return { value: t.toLowerCase() === 'true' }
      return { value: t }
  }
}
