import { decodeLogsJson, decodeLogsProtobuf, recordLabel } from '../otlp/decode-logs.js'
import { normalizeLog, recordTimeNs, takesArrivalTime } from '../normalize/logs.js'
import { LineWriter } from './line-writer.js'
import { bodyFingerprint } from './repeated-requests.js'
import type { BodyFormat, PrepareContext, Prepared, PreparedBatch } from './prepare.js'
import { LOGS, SPAN_CONTENT } from './tables.js'
import { outsideWindow, timeWindow } from './time-window.js'

/**
 * An ExportLogsServiceRequest: decode → validate → normalize → encode. Every
 * record becomes a `logs` row; a GenAI event of a span also a `span_content` row
 * (normalize/logs.ts). Both tables' rows are spooled before the acknowledgement.
 * Throws SPANLENS_BAD_OTLP for an undecodable body.
 */
export function prepareLogs(format: BodyFormat, body: Buffer, project: string, ctx: PrepareContext): Prepared {
  const decoded = body.length === 0 ? { records: [], rejected: 0, problems: [] } : format === 'protobuf' ? decodeLogsProtobuf(body) : decodeLogsJson(body)
  const problems = [...decoded.problems]
  // ~1 KB a record as a first guess, at most 16 MiB (as for spans).
  const logs = new LineWriter(Math.min(decoded.records.length * 1024, 16 * 1024 * 1024), ctx.pool, ctx.maxRowBytes)
  const content = new LineWriter(4096, undefined, ctx.maxRowBytes)
  const window = timeWindow(ctx.retentionDays ?? 0)
  const receivedNs = ctx.receivedNs ?? `${Date.now()}000000`
  let timeless = false
  let failed = 0
  let outOfWindow = 0
  decoded.records.forEach((r, seq) => {
    const late = outsideWindow(recordTimeNs(r, receivedNs), window, 'time_unix_nano')
    if (late) {
      outOfWindow++
      if (problems.length < 5) problems.push(`${recordLabel(r.position)}: ${late}`)
      return
    }
    let lines: [string, string | undefined]
    try {
      const rows = normalizeLog(r, project, seq, receivedNs, ctx.redact)
      lines = [LOGS.encode(rows.log), rows.content && SPAN_CONTENT.encode(rows.content)]
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`${recordLabel(r.position)}: ${(err as Error).message}`)
      return
    }
    if (takesArrivalTime(r)) timeless = true
    logs.write(lines[0])
    if (lines[1] !== undefined) content.write(lines[1])
  })
  const batches: PreparedBatch[] = []
  if (logs.lines > 0) batches.push({ table: LOGS.name, payload: logs.bytes(), rows: logs.lines })
  else logs.discard()
  if (content.lines > 0) batches.push({ table: SPAN_CONTENT.name, payload: content.bytes(), rows: content.lines })
  // A retry of a request whose rows took its arrival time would have new row keys, so a second row:
  // such a request is identified by its body (paid by those requests only) and a retry of it answered
  // as it was (repeated-requests.ts). Other records' rows collapse by their own keys.
  const fingerprint = timeless ? bodyFingerprint(body) : undefined
  return { batches, accepted: logs.lines, invalid: decoded.rejected, failed, outOfWindow, problems, fingerprint }
}
