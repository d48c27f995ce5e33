import { z } from 'zod'
import { errors } from '../errors.js'
import { invalidFields, refuseRepeats } from '../params.js'
import { checkBucketCount, parseBucketSeconds, parseTime } from '../time.js'

/**
 * The query string of GET /api/v1/metrics, parsed into a MetricsQuery; every
 * bad parameter is a 400 naming it. The route refuses a parameter not in
 * METRICS_PARAMS before it gets here (params.ts, onlyParams).
 */

const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const
export type MetricType = (typeof METRIC_TYPES)[number]

/** What a bucket of points becomes; `pNN` (0 < NN < 100, e.g. p50, p99.9) for histograms. */
const AGGREGATIONS = ['sum', 'rate', 'count', 'avg', 'min', 'max', 'last'] as const
export type Aggregation = (typeof AGGREGATIONS)[number] | { quantile: number }

/** A point attribute, or a resource attribute (`resource.<key>` in the query string). */
interface Dimension {
  source: 'attributes' | 'resource_attributes'
  key: string
  /** As the caller wrote it: the key of `group` in the reply. */
  label: string
}

export interface MetricsQuery {
  name: string
  type?: MetricType
  from: Date
  to: Date
  /** Seconds; undefined: one point per group over the whole range. */
  bucketSeconds?: number
  groupBy: Dimension[]
  /** Equality filters, each a list of accepted values; all must hold. */
  where: Array<Dimension & { values: string[] }>
  /** Undefined: the type's default (metrics/query.ts). */
  agg?: Aggregation
}

/** Buckets one reply may hold per group. */
const MAX_BUCKETS = 10_000
const MAX_GROUP_BY = 10
const MAX_KEY = 256

// Each parameter is one value by now (params.ts, oneValueEach): what is missing is undefined.
const text = () => z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected one value') }).trim().min(1).max(MAX_KEY * 4, { error: `expected at most ${MAX_KEY * 4} characters` })

const params = z.object({
  name: text(),
  type: z.enum(METRIC_TYPES, { error: `expected one of ${METRIC_TYPES.join(', ')}` }).optional(),
  from: text().optional(),
  to: text().optional(),
  bucket: text().optional(),
  groupBy: text().optional(),
  agg: text().optional(),
})

/** The route's parameters: attr.<key> and resource.<key> filter the points (parseMetricsQuery). */
export const METRICS_PARAMS = [...Object.keys(params.shape), 'attr.<key>', 'resource.<key>']

function dimension(raw: string, field: string): Dimension {
  const key = raw.trim()
  if (key === '' || key.length > MAX_KEY) throw errors.BAD_REQUEST(`${field}: attribute keys are 1 to ${MAX_KEY} characters`)
  if (key.startsWith('resource.') && key.length > 9) return { source: 'resource_attributes', key: key.slice(9), label: key }
  return { source: 'attributes', key, label: key }
}

function aggregation(raw: string): Aggregation {
  if ((AGGREGATIONS as readonly string[]).includes(raw)) return raw as Aggregation
  const p = /^p(\d{1,2}(?:\.\d+)?)$/.exec(raw)
  const q = p ? Number(p[1]) : Number.NaN
  if (q > 0 && q < 100) return { quantile: q / 100 }
  throw errors.BAD_REQUEST(`agg: expected one of ${AGGREGATIONS.join(', ')} or a percentile such as p50, p95, p99`)
}

export function parseMetricsQuery(q: Record<string, unknown>, now = new Date()): MetricsQuery {
  const parsed = params.safeParse(q)
  if (!parsed.success) throw invalidFields(parsed.error)
  const p = parsed.data
  const to = p.to === undefined ? now : parseTime(p.to, 'to', now)
  const from = p.from === undefined ? new Date(to.getTime() - 3_600_000) : parseTime(p.from, 'from', now)
  if (from.getTime() >= to.getTime()) throw errors.BAD_REQUEST('from: must be before to')
  let bucketSeconds: number | undefined
  if (p.bucket !== undefined) {
    bucketSeconds = parseBucketSeconds(p.bucket, 'bucket')
    checkBucketCount(p.bucket, bucketSeconds, from.getTime(), to.getTime(), MAX_BUCKETS)
  }
  const groupBy = p.groupBy === undefined ? [] : p.groupBy.split(',').map((k) => dimension(k, 'groupBy'))
  if (groupBy.length > MAX_GROUP_BY) throw errors.BAD_REQUEST(`groupBy: at most ${MAX_GROUP_BY} keys`)
  refuseRepeats(groupBy.map((g) => g.label), 'groupBy')
  const where: MetricsQuery['where'] = []
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith('attr.') && !k.startsWith('resource.')) continue
    if (typeof v !== 'string') throw errors.BAD_REQUEST(`${k}: expected one value (a comma list)`)
    const values = v.split(',').filter((x) => x !== '')
    if (values.length === 0) throw errors.BAD_REQUEST(`${k}: must not be empty`)
    const d = dimension(k.startsWith('attr.') ? k.slice(5) : k, k)
    where.push({ ...d, ...(k.startsWith('attr.') ? { source: 'attributes' as const, key: k.slice(5) } : {}), values })
  }
  return {
    name: p.name,
    ...(p.type ? { type: p.type } : {}),
    from,
    to,
    ...(bucketSeconds !== undefined ? { bucketSeconds } : {}),
    groupBy,
    where,
    ...(p.agg !== undefined ? { agg: aggregation(p.agg) } : {}),
  }
}
