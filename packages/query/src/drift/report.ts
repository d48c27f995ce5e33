import { z } from 'zod'
import { combineFilters } from '../combine-filters.js'
import { type ClickHouseClient, ParamBag } from '../db.js'
import { errors } from '../errors.js'
import { type SpanFilter, filterObject, filterText, toSpanFilter } from '../filters.js'
import { invalidFields, refuseRepeats } from '../params.js'
import { categoricalDrift, textDrift } from './categorical.js'
import { embeddingDrift } from './embedding.js'
import { countSets, numericDrift } from './numeric.js'
import { countQuery, type DriftSets } from './sets.js'
import { DEFAULT_SIGNALS, resolveSignal, type SignalSpec } from './signals.js'
import { DEFAULT_THRESHOLDS, type DriftThresholds, type SignalDrift } from './types.js'

const driftRequestSchema = z
  .object({
    /** a span filter (e.g. {from, to}) or, with `dimension`, the dimension's reference value */
    reference: z.union([filterText, filterObject], { error: "expected a filter object, or with dimension the dimension's value" }),
    current: z.union([filterText, filterObject], { error: "expected a filter object, or with dimension the dimension's value" }),
    /** release | model | service | environment | provider | operation | kind | attr:<key> | resource:<key> */
    dimension: filterText.optional(),
    /** applied to both sides (e.g. a service, or a time range for a dimension comparison) */
    filter: filterObject.optional(),
    signals: z.array(filterText).min(1).optional(),
    method: z
      .object({
        numeric: z.enum(['auto', 'ks', 'wasserstein', 'psi']).default('auto'),
        categorical: z.enum(['auto', 'chi2', 'js', 'psi']).default('auto'),
      })
      .partial()
      // A key misspelt (or a signal's name) would otherwise be dropped and its default used unsaid.
      .strict()
      .optional(),
    thresholds: z
      .object({
        smallReferenceMax: z.number().int().min(0),
        ksPValue: z.number().min(0).max(1),
        chi2PValue: z.number().min(0).max(1),
        wassersteinNormed: z.number().min(0),
        jsDistance: z.number().min(0),
        psiModerate: z.number().min(0),
        psiMajor: z.number().min(0),
        textJsDistance: z.number().min(0),
        embeddingCosine: z.number().min(0).nullable(),
      })
      .partial()
      .strict()
      .optional(),
    /** fewer values than this on either side: no verdict for that signal (default 30) */
    minSamples: z.number().int().min(2).default(30),
  })
  .strict()

export type DriftRequest = z.input<typeof driftRequestSchema>

export interface DriftReport {
  reference: SpanFilter
  current: SpanFilter
  nReference: number
  nCurrent: number
  /** true when any signal's verdict is drifted */
  drifted: boolean
  thresholds: DriftThresholds
  signals: SignalDrift[]
}

/** A side's own filter: its object, or with `dimension` the dimension's value as a filter. */
function sideFilter(side: string | Record<string, unknown>, dimension: string | undefined, field: string, now: Date): SpanFilter {
  if (typeof side !== 'string') {
    if (dimension) throw errors.BAD_REQUEST(`${field}: with dimension, give the dimension's value as a string`)
    return toSpanFilter(side, now, `${field}.`)
  }
  if (!dimension) throw errors.BAD_REQUEST(`${field}: a string value needs "dimension" (e.g. release)`)
  if (side.trim() === '') throw errors.BAD_REQUEST(`${field}: the ${dimension} to compare is empty`)
  const [kind, ...rest] = dimension.split(':')
  const key = rest.join(':')
  switch (kind) {
    case 'release':
    case 'model':
    case 'service':
    case 'environment':
    case 'provider':
    case 'operation':
    case 'kind':
      if (key) break
      return toSpanFilter({ [kind]: [side] }, now, `${field}.`)
    case 'attr':
      if (!key) break
      return toSpanFilter({ attributes: { [key]: side } }, now, `${field}.`)
    case 'resource':
      if (!key) break
      return toSpanFilter({ resource: { [key]: side } }, now, `${field}.`)
  }
  throw errors.BAD_REQUEST(`dimension: expected release, model, service, environment, provider, operation, kind, attr:<key> or resource:<key>, got "${dimension}"`)
}

/**
 * Compares a reference set of spans with a current set, signal by signal, entirely
 * in ClickHouse. Throws SPANLENS_NOT_ENOUGH_DATA when either set is smaller than
 * minSamples or no requested signal has enough values on both sides.
 */
export async function drift(
  client: ClickHouseClient,
  project: string,
  request: DriftRequest,
  now = new Date(),
  options: { signalsAtOnce?: number } = {},
): Promise<DriftReport> {
  const parsed = driftRequestSchema.safeParse(request)
  if (!parsed.success) throw invalidFields(parsed.error)
  const r = parsed.data
  // Both of a side's conditions and the shared filter's hold (combine-filters.ts).
  const base = toSpanFilter(r.filter ?? {}, now, 'filter.')
  const sets: DriftSets = {
    reference: combineFilters(base, sideFilter(r.reference, r.dimension, 'reference', now), 'reference'),
    current: combineFilters(base, sideFilter(r.current, r.dimension, 'current', now), 'current'),
  }
  // A span in both sets counts as reference (sets.ts): the same filter twice leaves current empty.
  if (JSON.stringify(sets.reference) === JSON.stringify(sets.current)) throw errors.BAD_REQUEST('current: selects the same spans as reference')
  refuseRepeats(r.signals ?? [], 'signals')
  const thresholds: DriftThresholds = { ...DEFAULT_THRESHOLDS, ...stripUndefined(r.thresholds ?? {}) }
  const callerChoseKind = (sets.reference.kind?.length ?? 0) > 0 || (sets.current.kind?.length ?? 0) > 0
  const specs = r.signals ? r.signals.map((name, i) => resolveSignal(name, callerChoseKind, `signals[${i}]`)) : DEFAULT_SIGNALS.map((name) => resolveSignal(name, callerChoseKind, 'signals'))
  const bag = new ParamBag()
  const { nRef, nCur } = await countSets(client, countQuery(project, sets, bag), bag.values)
  if (nRef < r.minSamples || nCur < r.minSamples) {
    throw errors.NOT_ENOUGH_DATA(`reference has ${nRef} spans and current has ${nCur}; at least ${r.minSamples} each are needed`)
  }
  const common = { thresholds, minSamples: r.minSamples }
  // One query per kind of signal for all its signals (numeric, categorical; text in two), an embedding alone.
  const batches = batchesOf(specs)
  const answers = await inTurns(batches, options.signalsAtOnce ?? DRIFT_SIGNALS_AT_ONCE, ({ type, items }): Promise<SignalDrift[]> => {
    const batch = items.map((i) => specs[i] as SignalSpec)
    switch (type) {
      case 'numeric':
        return numericDrift(client, project, sets, batch, { ...common, method: r.method?.numeric ?? 'auto' })
      case 'categorical':
        return categoricalDrift(client, project, sets, batch, { ...common, method: r.method?.categorical ?? 'auto' })
      case 'text':
        return textDrift(client, project, sets, batch, common)
      case 'embedding':
        // batchesOf gives each embedding signal a batch of its own
        return embeddingDrift(client, project, sets, batch[0] as SignalSpec, common).then((s) => [s])
    }
  })
  const signals: SignalDrift[] = new Array(specs.length)
  for (const [b, { items }] of batches.entries()) for (const [j, i] of items.entries()) signals[i] = (answers[b] as SignalDrift[])[j] as SignalDrift
  if (signals.every((s) => s.status === 'not_enough_data')) {
    throw errors.NOT_ENOUGH_DATA(
      `no signal has ${r.minSamples} values on both sides (${signals.map((s) => `${s.signal}: ${s.nReference}/${s.nCurrent}`).join(', ')})`,
    )
  }
  return { reference: sets.reference, current: sets.current, nReference: nRef, nCurrent: nCur, drifted: signals.some((s) => s.drifted === true), thresholds, signals }
}

/** The signals' indices by type, in the order asked; embeddings one per batch. */
function batchesOf(specs: readonly SignalSpec[]): Array<{ type: SignalSpec['type']; items: number[] }> {
  const batches: Array<{ type: SignalSpec['type']; items: number[] }> = []
  for (const [i, spec] of specs.entries()) {
    const same = spec.type === 'embedding' ? undefined : batches.find((b) => b.type === spec.type)
    if (same) same.items.push(i)
    else batches.push({ type: spec.type, items: [i] })
  }
  return batches
}

/**
 * Batches of signals computed at once. Each reads the two sets on its own, so a served ClickHouse
 * (or a cluster) runs them side by side; embedded chDB runs one call at a time behind
 * its gate (call-gate.ts), where the order changes and nothing else does.
 */
export const DRIFT_SIGNALS_AT_ONCE = 4

/**
 * `work` over `items` with at most `limit` running, results in the items' order. After a
 * failure no more start, and the first error is thrown only once the running ones end:
 * admission hands the project's turn on when this returns, so no query of this request
 * may still be running then.
 */
async function inTurns<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++
      try {
        results[i] = await work(items[i] as T)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure) throw failure.err
  return results
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
