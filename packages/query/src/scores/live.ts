/**
 * The scores that stand, for every read: each score's last version (FINAL folds a
 * re-post under the same name and day), without the versions a re-post under another
 * name or day replaced (they are folded into a copy marked deleted: clickhouse/012,
 * record.ts). Continue the WHERE with `AND`.
 */
export const LIVE_SCORES = 'scores FINAL WHERE deleted = 0'
