import { type ClickHouseClient, ParamBag, num, selectOne } from '../db.js'
import { type DriftSets, sourceQuery } from './sets.js'
import type { SignalSpec } from './signals.js'
import { decide, type DriftThresholds, type SignalDrift } from './types.js'

/**
 * Centroid distance (Phoenix's embedding drift): the element-wise mean embedding of
 * each side (avgForEach), compared by euclidean and cosine distance. Only vectors of
 * the most common dimension count.
 */
export async function embeddingDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  spec: SignalSpec,
  opts: { thresholds: DriftThresholds; minSamples: number },
): Promise<SignalDrift> {
  const bag = new ParamBag()
  const src = sourceQuery(project, sets, spec, bag)
  const row = await selectOne<{ n_ref: number; n_cur: number; l2: number | null; cos: number | null; dim: number }>(
    client,
    `WITH src AS (${src}), dim AS (SELECT topK(1)(length(v))[1] AS d FROM src)
     SELECT countIf(side = 0) AS n_ref, countIf(side = 1) AS n_cur, any(dim.d) AS dim,
            if(n_ref > 0 AND n_cur > 0, L2Distance(avgForEachIf(v, side = 0), avgForEachIf(v, side = 1)), NULL) AS l2,
            if(n_ref > 0 AND n_cur > 0, cosineDistance(avgForEachIf(v, side = 0), avgForEachIf(v, side = 1)), NULL) AS cos
     FROM src, dim WHERE length(v) = dim.d`,
    bag.values,
  )
  const nRef = num(row.n_ref)
  const nCur = num(row.n_cur)
  const base: SignalDrift = { signal: spec.signal, type: 'embedding', nReference: nRef, nCurrent: nCur, status: 'ok', method: null, drifted: null, statistics: [] }
  if (nRef < opts.minSamples || nCur < opts.minSamples) return { ...base, status: 'not_enough_data' }
  const th = opts.thresholds.embeddingCosine
  const cos = num(row.cos)
  return {
    ...base,
    method: th === null ? null : 'centroid_cosine',
    ...decide(
      [
        { name: 'centroid_l2', value: num(row.l2), pValue: null, threshold: null, drifted: null },
        { name: 'centroid_cosine', value: cos, pValue: null, threshold: th, drifted: th === null ? null : cos >= th },
      ],
      th === null ? null : 'centroid_cosine',
    ),
    detail: { dimension: num(row.dim) },
  }
}
