import { createHash } from 'node:crypto'
import { TEMPORALITIES, type OtlpMetricPoint } from '../otlp/metric-model.js'
import type { MetricRow } from '../schema/metric-columns.js'
import { attrString } from './attrs.js'
import { label, mapStrings, nsToSeconds, resourceStrings, scopeStrings, withOwnDropped } from './normalize.js'
import type { Redactor } from './redact.js'

/**
 * Maps one OTLP data point to a `metrics` row. Metrics carry no content, so
 * there is no convention table here: names, units and attributes are kept as
 * sent (attribute values redacted like span attributes, labels cut like span
 * labels), and the point gets the id of the series it belongs to.
 */
export function normalizeMetricPoint(p: OtlpMetricPoint, projectId: string, redact?: Redactor): MetricRow {
  const m = p.metric
  const resource = resourceStrings(m.resource, redact)
  const scopeAttributes = scopeStrings(m.scopeAttributes, redact)
  const attributes = withOwnDropped(mapStrings(p.attributes, redact), p.droppedAttributes)
  const name = label(m.name)
  const temporality = TEMPORALITIES[m.temporality] ?? ''
  const unit = label(m.unit)
  const scopeName = label(m.scopeName)
  const scopeVersion = label(m.scopeVersion)
  const time = nsToSeconds(p.timeNs)
  return {
    project_id: projectId,
    name,
    description: label(m.description),
    unit,
    type: m.type,
    temporality,
    is_monotonic: m.isMonotonic ? 1 : 0,
    series_id: seriesId([projectId, name, m.type, temporality, unit, scopeName, scopeVersion], resource, attributes, scopeAttributes),
    service_name: label(attrString(m.resource['service.name']) ?? 'unknown_service'),
    scope_name: scopeName,
    scope_version: scopeVersion,
    start_time: nsToSeconds(p.startNs),
    time,
    // null only on a point flagged FLAG_NO_RECORDED_VALUE (validation refuses any other), and
    // on the types that have no value: the flag, not this 0, says there is none.
    value: p.value ?? 0,
    count: p.count,
    sum: p.sum,
    min: p.min,
    max: p.max,
    bucket_counts: p.bucketCounts,
    explicit_bounds: p.explicitBounds,
    scale: p.scale,
    zero_count: p.zeroCount,
    zero_threshold: p.zeroThreshold,
    positive_offset: p.positive.offset,
    positive_bucket_counts: p.positive.counts,
    negative_offset: p.negative.offset,
    negative_bucket_counts: p.negative.counts,
    'quantiles.quantile': p.quantiles,
    'quantiles.value': p.quantileValues,
    flags: p.flags,
    attributes,
    resource_attributes: resource,
    scope_attributes: scopeAttributes,
    'exemplars.time': p.exemplars.map((e) => (e.timeNs === '0' ? time : nsToSeconds(e.timeNs))),
    'exemplars.value': p.exemplars.map((e) => e.value ?? 0),
    'exemplars.trace_id': p.exemplars.map((e) => e.traceId),
    'exemplars.span_id': p.exemplars.map((e) => e.spanId),
    'exemplars.attributes': p.exemplars.map((e) => withOwnDropped(mapStrings(e.attributes, redact), e.droppedAttributes)),
  }
}

/**
 * A stream's identity, as the OpenTelemetry data model defines it: the
 * resource, the scope (name, version and attributes), the metric's name, type,
 * temporality and unit, and the point's attributes (in any order). Consecutive
 * points of one series are what turn cumulative values into increments at query
 * time, and the sharding key that keeps a series (and any re-delivered point of
 * it) on one shard. Computed from what is stored, so the id and the stored maps
 * agree. A scope without attributes adds nothing to the hash: the ids of series
 * stored before scope attributes were kept stay the same.
 */
function seriesId(identity: string[], resource: Readonly<Record<string, string>>, attributes: Record<string, string>, scope: Readonly<Record<string, string>>): string {
  const hash = createHash('md5')
  hash.update(JSON.stringify(identity))
  hash.update(sharedKey(resource))
  hash.update(JSON.stringify(sortedEntries(attributes)))
  const scopeKey = sharedKey(scope)
  if (scopeKey !== '[]') hash.update(scopeKey)
  return hash.digest().readBigUInt64LE(0).toString()
}

/** Every point of a request's resource, and of a scope, shares one object (normalize.ts): its part of the key is made once. */
const sharedKeys = new WeakMap<object, string>()
function sharedKey(shared: Readonly<Record<string, string>>): string {
  let key = sharedKeys.get(shared)
  if (key === undefined) {
    key = JSON.stringify(sortedEntries(shared))
    sharedKeys.set(shared, key)
  }
  return key
}

function sortedEntries(m: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(m).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}
