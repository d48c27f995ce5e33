import { normalizeMetricPoint } from '../normalize/metrics.js'
import { decodeMetricsJson, decodeMetricsProtobuf, pointLabel } from '../otlp/decode-metrics.js'
import { LineWriter } from './line-writer.js'
import type { BodyFormat, PrepareContext, Prepared } from './prepare.js'
import { METRICS } from './tables.js'
import { outsideWindow, timeWindow } from './time-window.js'

/** An ExportMetricsServiceRequest: decode → validate → normalize → encode `metrics` rows, one per data point. Throws SPANLENS_BAD_OTLP for an undecodable body. */
export function prepareMetrics(format: BodyFormat, body: Buffer, project: string, ctx: PrepareContext): Prepared {
  const decoded = body.length === 0 ? { points: [], rejected: 0, problems: [] } : format === 'protobuf' ? decodeMetricsProtobuf(body) : decodeMetricsJson(body)
  const problems = [...decoded.problems]
  const note = (why: string) => {
    if (problems.length < 5) problems.push(why)
  }
  // A data point's row is ~300 bytes plus its attributes; at most 16 MiB up front.
  const out = new LineWriter(Math.min(decoded.points.length * 512, 16 * 1024 * 1024), ctx.pool, ctx.maxRowBytes)
  const window = timeWindow(ctx.retentionDays ?? 0)
  let rows = 0
  let failed = 0
  let outOfWindow = 0
  for (const point of decoded.points) {
    const late = outsideWindow(point.timeNs, window, 'time_unix_nano')
    if (late) {
      outOfWindow++
      note(`${pointLabel(point.metric.position, point.metric.name, point.index)}: ${late}`)
      continue
    }
    let line: string
    try {
      line = METRICS.encode(normalizeMetricPoint(point, project, ctx.redact))
    } catch (err) {
      failed++
      note(`${pointLabel(point.metric.position, point.metric.name, point.index)}: ${(err as Error).message}`)
      continue
    }
    out.write(line)
    rows++
  }
  const batches = rows === 0 ? [] : [{ table: METRICS.name, payload: out.bytes(), rows }]
  if (rows === 0) out.discard()
  return { batches, accepted: rows, invalid: decoded.rejected, failed, outOfWindow, problems }
}
