import { afterLatestTime } from '@spanlens/query/time-window'
import { MAX_TIME_NS } from './decode.js'
import { readLogsRequest } from './decode-logs-protobuf.js'
import type { DecodedLogs, OtlpLogRecord } from './log-model.js'
import { type JsonEnvelope, type JsonScope, readJsonEnvelope } from './envelope-json.js'
import { JsonTypeError, field, isObj, shown, text } from './json-fields.js'
import { ValueTypeError, anyValue, compareNs, idToHex, isJsonEnumNumber, nanos, spanPointerProblem } from './values.js'
import { readWire } from './request-body.js'
import { cappedJsonAttributes } from './attribute-cap.js'
import { isLogConventionKey } from '../normalize/convention-keys.js'

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

const LOGS_JSON: JsonEnvelope = {
  message: 'ExportLogsServiceRequest',
  resources: 'resourceLogs',
  scopes: 'scopeLogs',
  items: 'logRecords',
}

export function decodeLogsJson(body: Buffer): DecodedLogs {
  return readJsonEnvelope(body, LOGS_JSON, () => {
    const { result, reject, add } = collector()
    const item = (raw: unknown, position: number, scope: JsonScope | string): void => {
      try {
        if (!isObj(raw)) throw new JsonTypeError('not an object')
        if (typeof scope === 'string') throw new JsonTypeError(scope)
        add(toRecord(raw, position, scope))
      } catch (err) {
        reject(`${recordLabel(position)}: ${(err as Error).message}`)
      }
    }
    return { result, item }
  })
}

/** A log record as a refusal names it: its position in the request (OtlpLogRecord.position). */
export function recordLabel(position: number): string {
  return `log record ${position}`
}

function toRecord(r: Obj, position: number, scope: JsonScope): OtlpLogRecord {
  return {
    position,
    resource: scope.resource,
    scopeName: scope.name,
    scopeVersion: scope.version,
    scopeAttributes: scope.attributes,
    timeNs: nanos(field(r, 'timeUnixNano'), 'time_unix_nano'),
    observedNs: nanos(field(r, 'observedTimeUnixNano'), 'observed_time_unix_nano'),
    severityNumber: severity(field(r, 'severityNumber')),
    severityText: text(r, 'severityText'),
    body: body(field(r, 'body')),
    ...cappedJsonAttributes(field(r, 'attributes'), isLogConventionKey),
    traceId: idToHex(field(r, 'traceId'), 16),
    spanId: idToHex(field(r, 'spanId'), 8),
    eventName: text(r, 'eventName'),
  }
}

function body(v: unknown): OtlpLogRecord['body'] {
  try {
    return anyValue(v)
  } catch (err) {
    throw err instanceof ValueTypeError ? new JsonTypeError(`body${err.path}: ${err.reason}`) : err
  }
}

/** SeverityNumber, an integer enum or its name; a number this version does not know is kept for validate(). */
function severity(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (isJsonEnumNumber(v)) return v
  if (typeof v === 'string') {
    const idx = SEVERITY_NAMES.indexOf(v.replace(/^SEVERITY_NUMBER_/, ''))
    if (idx >= 0) return idx
  }
  throw new JsonTypeError(`severityNumber must be an integer enum (int32) or a SeverityNumber name, not ${shown(v)}`)
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
    if (problem) reject(`${recordLabel(record.position)}: ${problem}`)
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
  // An open enum, as a span's kind (decode.ts validate): a number this version does not know is
  // read as unspecified, and the record's severity_text still says what the sender wrote.
  if (r.severityNumber < 0 || r.severityNumber > MAX_SEVERITY) r.severityNumber = 0
  if (compareNs(r.timeNs, MAX_TIME_NS) > 0) return afterLatestTime('time_unix_nano')
  if (compareNs(r.observedNs, MAX_TIME_NS) > 0) return afterLatestTime('observed_time_unix_nano')
  return undefined
}
