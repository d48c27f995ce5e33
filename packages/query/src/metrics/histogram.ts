/**
 * Percentiles from histogram buckets, explicit or exponential alike: each bucket
 * is a range (lo, hi] holding `count` measurements, and a percentile is found by
 * linear interpolation inside the bucket its rank falls in (what Prometheus's
 * histogram_quantile does). Buckets of series with different boundaries are
 * merged by their upper bounds, an approximation of the same order as the
 * buckets' width.
 */

export interface BucketCount {
  lo: number
  hi: number
  count: number
}

/**
 * The q-quantile (0 < q < 1) of the measurements the buckets count, or null when
 * they count none. An open-ended bucket (±Infinity) takes its missing bound from
 * the observed min or max, else from its other bound; the answer is kept within
 * [min, max] when those are known.
 */
export function quantileOf(buckets: readonly BucketCount[], q: number, min: number | null = null, max: number | null = null): number | null {
  const kept = buckets.filter((b) => b.count > 0).sort((a, b) => a.hi - b.hi || a.lo - b.lo)
  const total = kept.reduce((n, b) => n + b.count, 0)
  if (total <= 0) return null
  const rank = q * total
  let seen = 0
  let found = kept[kept.length - 1] as BucketCount
  let within = 1
  for (const b of kept) {
    if (seen + b.count >= rank) {
      found = b
      within = (rank - seen) / b.count
      break
    }
    seen += b.count
  }
  const lo = Number.isFinite(found.lo) ? found.lo : (min ?? found.hi)
  const hi = Number.isFinite(found.hi) ? found.hi : (max ?? lo)
  let value = hi <= lo ? lo : lo + (hi - lo) * within
  if (min !== null && Number.isFinite(min)) value = Math.max(value, min)
  if (max !== null && Number.isFinite(max)) value = Math.min(value, max)
  return Number.isFinite(value) ? value : null
}
