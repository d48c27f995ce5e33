/**
 * The scores that stand, for every read: each score's last version (FINAL folds a
 * re-post under the same name and day), without the versions a re-post under another
 * name or day replaced (they are folded into a copy marked deleted: clickhouse/012,
 * record.ts). Continue the WHERE with `AND`.
 */
export const LIVE_SCORES = 'scores FINAL WHERE deleted = 0'

/** A score as a listing shows it beside its trace: enough to render the value as it was posted. */
export interface ScoreBrief {
  name: string
  /** a NUMERIC score's number; a BOOLEAN's 1 or 0; null for a CATEGORICAL one */
  value: number | null
  /** a CATEGORICAL score's label, else empty */
  stringValue: string
  /** NUMERIC, BOOLEAN or CATEGORICAL: what the posted JSON value was */
  dataType: string
}
