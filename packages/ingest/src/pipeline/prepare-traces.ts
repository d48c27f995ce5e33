import { decodeJson, decodeProtobuf, spanLabel } from '../otlp/decode.js'
import { normalizeSpan } from '../normalize/normalize.js'
import type { SpanRow } from '../normalize/row.js'
import { countsUsage, demote, demoteStackedCalls, keepUsageOnModelCalls, mayBeStacked } from '../normalize/stacked-calls.js'
import { LineWriter } from './line-writer.js'
import type { BodyFormat, ModelCall, PrepareContext, Prepared } from './prepare.js'
import { bodyFingerprint } from './repeated-requests.js'
import { SPANS } from './tables.js'
import { outsideWindow, timeWindow } from './time-window.js'

/** An ExportTraceServiceRequest: decode → validate → normalize → encode `spans` rows. Throws SPANLENS_BAD_OTLP for an undecodable body. */
export function prepareTraces(format: BodyFormat, body: Buffer, project: string, ctx: PrepareContext): Prepared {
  const decoded = body.length === 0 ? { spans: [], rejected: 0, problems: [] } : format === 'protobuf' ? decodeProtobuf(body) : decodeJson(body)
  const problems = [...decoded.problems]
  // A first guess of 2 KB a span, at most 16 MiB: a 64 MiB body of minimal spans
  // (~40 bytes each) would otherwise ask for 3 GB up front.
  const out = new LineWriter(Math.min(decoded.spans.length * 2048, 16 * 1024 * 1024), ctx.pool, ctx.maxRowBytes)
  const options = { prices: ctx.prices, redact: ctx.redact }
  let rows = 0
  let failed = 0
  let outOfWindow = 0
  const window = timeWindow(ctx.retentionDays ?? 0)
  const calls: SpanRow[] = []
  /** Where each held-back call was in the request, for a refusal to name it. */
  const callPositions = new Map<SpanRow, number>()
  const write = (row: SpanRow, position: number): boolean => {
    let line: string
    try {
      line = SPANS.encode(row)
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`${spanLabel(position, row.name, row.span_id)}: ${(err as Error).message}`)
      return false
    }
    out.write(line)
    return true
  }
  for (const span of decoded.spans) {
    const late = outsideWindow(span.startNs, window, 'start_time_unix_nano')
    if (late) {
      outOfWindow++
      if (problems.length < 5) problems.push(`${spanLabel(span.position, span.name, span.spanId)}: ${late}`)
      continue
    }
    let row: SpanRow
    try {
      row = normalizeSpan(span, project, options)
      keepUsageOnModelCalls(row)
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`${spanLabel(span.position, span.name, span.spanId)}: ${(err as Error).message}`)
      continue
    }
    // Model calls wait for the rest of the request: another span in it may report the same call.
    if (mayBeStacked(row)) {
      calls.push(row)
      callPositions.set(row, span.position)
    } else if (write(row, span.position)) rows++
  }
  demoteStackedCalls(calls)
  const modelCalls: ModelCall[] = []
  for (const row of calls) {
    if (countsUsage(row)) {
      const counted = ctx.demote?.get(`${row.trace_id}/${row.span_id}`)
      if (counted !== undefined) demote(row, counted)
      else modelCalls.push(modelCall(row))
    }
    if (write(row, callPositions.get(row) as number)) rows++
  }
  const batches = rows === 0 ? [] : [{ table: SPANS.name, payload: out.bytes(), rows }]
  if (rows === 0) out.discard()
  // The whole body, not only its spans' ids and times: a span sent again with the same ids,
  // times and body length but other content (tokens 100, then 999) is an update to store, and
  // was answered as a repeat and lost.
  const fingerprint = decoded.spans.length === 0 ? undefined : bodyFingerprint(body)
  return { batches, accepted: rows, invalid: decoded.rejected, failed, outOfWindow, problems, modelCalls, fingerprint }
}

function modelCall(row: SpanRow): ModelCall {
  return { traceId: row.trace_id, spanId: row.span_id, parentSpanId: row.parent_span_id, kind: row.kind, inputTokens: row.input_tokens, outputTokens: row.output_tokens }
}
