import { MAX_TIME_NS } from './decode.js'
import { readLogsRequest } from './decode-logs-protobuf.js'
import type { DecodedLogs, OtlpLogRecord } from './log-model.js'
import { anyValue, compareNs, idToHex, keyValues, nanos, spanPointerProblem } from './values.js'
import { jsonResourceList, readWire } from './request-body.js'

/**
 * Decodes an ExportLogsServiceRequest, protobuf (decode-logs-protobuf.ts) or OTLP
 * JSON (the walker below), into OtlpLogRecords. Each record is validated and only
 * the bad ones are rejected (partial success), never the whole request, as for spans.
 */

type Obj = Record<string, unknown>
const MAX_PROBLEMS = 5
/** OTLP SeverityNumber: SEVERITY_NUMBER_UNSPECIFIED (0) to SEVERITY_NUMBER_FATAL4 (24). */
const MAX_SEVERITY = 24
const SEVERITY_NAMES = ['UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4']

export function decodeLogsProtobuf(body: Buffer): DecodedLogs {
  const out = collector()
  readWire(() => readLogsRequest(body, { record: (r) => out.add(r) }))
  return out.result
}

export function decodeLogsJson(body: Buffer): DecodedLogs {
  const resourceLogs = jsonResourceList(body, 'ExportLogsServiceRequest', 'resourceLogs', 'resource_logs')
  const { result, reject, add } = collector()
  for (const rlRaw of resourceLogs) {
    if (!rlRaw || typeof rlRaw !== 'object') continue
    const rl = rlRaw as Obj
    const resource = keyValues((rl.resource as Obj | undefined)?.attributes)
    for (const slRaw of list(rl, 'scopeLogs', 'scope_logs')) {
      if (!slRaw || typeof slRaw !== 'object') continue
      const sl = slRaw as Obj
      const scope = (sl.scope as Obj | undefined) ?? {}
      const scopeName = typeof scope.name === 'string' ? scope.name : ''
      const records = list(sl, 'logRecords', 'log_records')
      for (let i = 0; i < records.length; i++) {
        const raw = records[i]
        if (!raw || typeof raw !== 'object') {
          reject(`log record ${i}: not an object`)
          continue
        }
        try {
          add(toRecord(raw as Obj, resource, scopeName))
        } catch (err) {
          reject(`log record ${i}: ${(err as Error).message}`)
        }
      }
    }
  }
  return result
}

function list(o: Obj, camel: string, snake: string): unknown[] {
  const v = o[camel] ?? o[snake]
  return Array.isArray(v) ? v : []
}

const field = (o: Obj, camel: string, snake: string): unknown => o[camel] ?? o[snake]

function toRecord(r: Obj, resource: OtlpLogRecord['resource'], scopeName: string): OtlpLogRecord {
  const severityText = field(r, 'severityText', 'severity_text')
  if (severityText !== undefined && severityText !== null && typeof severityText !== 'string') throw new TypeError('severityText must be a string')
  const eventName = field(r, 'eventName', 'event_name')
  if (eventName !== undefined && eventName !== null && typeof eventName !== 'string') throw new TypeError('eventName must be a string')
  return {
    resource,
    scopeName,
    timeNs: nanos(field(r, 'timeUnixNano', 'time_unix_nano')),
    observedNs: nanos(field(r, 'observedTimeUnixNano', 'observed_time_unix_nano')),
    severityNumber: severity(field(r, 'severityNumber', 'severity_number')),
    severityText: (severityText as string | undefined) ?? '',
    body: anyValue(r.body),
    attributes: keyValues(r.attributes),
    traceId: idToHex(field(r, 'traceId', 'trace_id'), 16),
    spanId: idToHex(field(r, 'spanId', 'span_id'), 8),
    eventName: (eventName as string | undefined) ?? '',
  }
}

function severity(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string') {
    const idx = SEVERITY_NAMES.indexOf(v.replace(/^SEVERITY_NUMBER_/, ''))
    if (idx >= 0) return idx
  }
  throw new TypeError('severityNumber must be an integer enum')
}

/** Accepts valid records and counts the rest, keeping a few reasons for the reply. */
function collector() {
  const result: DecodedLogs = { records: [], rejected: 0, problems: [] }
  const reject = (why: string): void => {
    result.rejected++
    if (result.problems.length < MAX_PROBLEMS) result.problems.push(why)
  }
  const add = (record: OtlpLogRecord): void => {
    const problem = validate(record)
    if (problem) reject(`log record (${record.spanId || 'no span'}): ${problem}`)
    else result.records.push(record)
  }
  return { result, reject, add }
}

/**
 * What the row cannot hold. Trace and span ids are optional (a log record need
 * not belong to a trace); when present they must be well formed, and a span id
 * needs its trace id: the record is attached to that span.
 */
function validate(r: OtlpLogRecord): string | undefined {
  const ids = spanPointerProblem(r)
  if (ids) return ids
  if (r.severityNumber < 0 || r.severityNumber > MAX_SEVERITY) return `severity_number ${r.severityNumber} is not an OTLP SeverityNumber (0-24)`
  if (compareNs(r.timeNs, MAX_TIME_NS) > 0) return 'time_unix_nano is after 2262-04-11, the latest time ClickHouse stores'
  if (compareNs(r.observedNs, MAX_TIME_NS) > 0) return 'observed_time_unix_nano is after 2262-04-11, the latest time ClickHouse stores'
  return undefined
}
