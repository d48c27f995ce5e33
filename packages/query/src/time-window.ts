/**
 * The times a record may carry and still be kept, in one place for every kind of
 * record: spans and log records (ingest's pipeline/time-window.ts, which compares
 * nanosecond strings) and scores (scores/record.ts, Dates). Older than the retention,
 * the table's TTL would delete it at once: acknowledged, never queryable. Far ahead of
 * the server's clock, the TTL's and the partition's dates wrap around. It lives here,
 * not in ingest, because ingest depends on this package and not the reverse; ingest
 * imports it alone, as `@spanlens/query/time-window`.
 */

/**
 * The latest instant the store holds: spans' and log records' DateTime64(9) count Int64
 * nanoseconds, which end at 2262-04-11T23:47:16.854775807Z. A later time fails a whole
 * insert, or a whole query that binds it (DECIMAL_OVERFLOW, a 502).
 */
export const MAX_TIME_NS = 2n ** 63n - 1n

/** Why `field` is refused when after MAX_TIME_NS. */
export function afterLatestTime(field: string): string {
  return `${field} is after 2262-04-11, the latest time ClickHouse stores`
}

/** How far ahead of the server's clock a record may be (client clock skew). */
export const MAX_FUTURE_MS = 24 * 3_600_000

/** Why `field` is refused when older than the retention. */
export function olderThanRetention(field: string, retentionDays: number): string {
  return `${field} is older than the ${retentionDays}-day retention (SPANLENS_RETENTION_DAYS); it would be deleted at once`
}

/** Why `field` is refused when more than MAX_FUTURE_MS ahead. */
export function aheadOfClock(field: string): string {
  return `${field} is more than 24 h ahead of the server clock`
}
