import { anyValue, hexId, keyValueAt } from './decode-protobuf.js'
import type { OtlpLogRecord } from './log-model.js'
import type { Attrs } from './model.js'
import { MAX_ATTRIBUTES } from './values.js'
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire.js'

/**
 * ExportLogsServiceRequest (opentelemetry-proto logs/v1) decoded straight from
 * the wire, with the trace decoder's readers for KeyValue and AnyValue; field
 * numbers in the comments. Unknown fields, and known ones with an unexpected wire
 * type, are skipped; structural damage throws a WireError (a 400).
 */

/** Receives each record decoded; decode-logs.ts validates it. */
export interface LogSink {
  record(record: OtlpLogRecord): void
}

const key = (field: number, wireType: number): number => (field << 3) | wireType
const LEN_1 = key(1, WIRE_LEN)
const LEN_2 = key(2, WIRE_LEN)
const I64_1 = key(1, WIRE_I64)
const I64_11 = key(11, WIRE_I64)
const VARINT_2 = key(2, WIRE_VARINT)
const LEN_3 = key(3, WIRE_LEN)
const LEN_5 = key(5, WIRE_LEN)
const LEN_6 = key(6, WIRE_LEN)
const LEN_9 = key(9, WIRE_LEN)
const LEN_10 = key(10, WIRE_LEN)
const LEN_12 = key(12, WIRE_LEN)

export function readLogsRequest(buf: Buffer, sink: LogSink): void {
  const r = new WireReader(buf)
  while (!r.done) {
    const tag = r.tag()
    // ExportLogsServiceRequest.resource_logs = 1
    if (tag === LEN_1) {
      const outer = r.enter()
      readResourceLogs(r, sink)
      r.leave(outer)
    } else r.skip(tag & 7)
  }
}

function readResourceLogs(r: WireReader, sink: LogSink): void {
  // The resource applies to every record wherever it sits in the message.
  const resource: Attrs = {}
  const scopes: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      // resource = 1 → Resource.attributes = 1
      const outer = r.enter()
      let count = 0
      while (!r.done) {
        const t = r.tag()
        if (t === LEN_1 && count++ < MAX_ATTRIBUTES) keyValueAt(r, resource, 0)
        else r.skip(t & 7)
      }
      r.leave(outer)
    } else if (tag === LEN_2) {
      // scope_logs = 2
      const start = r.lengthDelimited()
      scopes.push(start, r.pos)
    } else r.skip(tag & 7)
  }
  const end = r.end
  for (let i = 0; i < scopes.length; i += 2) {
    r.pos = scopes[i] as number
    r.end = scopes[i + 1] as number
    readScopeLogs(r, resource, sink)
  }
  r.pos = end
  r.end = end
}

function readScopeLogs(r: WireReader, resource: Attrs, sink: LogSink): void {
  let scopeName = ''
  const records: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      // scope = 1 → InstrumentationScope.name = 1
      const outer = r.enter()
      while (!r.done) {
        const t = r.tag()
        if (t === LEN_1) scopeName = r.string()
        else r.skip(t & 7)
      }
      r.leave(outer)
    } else if (tag === LEN_2) {
      // log_records = 2
      const start = r.lengthDelimited()
      records.push(start, r.pos)
    } else r.skip(tag & 7)
  }
  for (let i = 0; i < records.length; i += 2) {
    r.pos = records[i] as number
    r.end = records[i + 1] as number
    sink.record(readLogRecord(r, resource, scopeName))
  }
}

function readLogRecord(r: WireReader, resource: Attrs, scopeName: string): OtlpLogRecord {
  const record: OtlpLogRecord = {
    resource,
    scopeName,
    timeNs: '0',
    observedNs: '0',
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: {},
    traceId: '',
    spanId: '',
    eventName: '',
  }
  let attributeCount = 0
  while (!r.done) {
    const tag = r.tag()
    switch (tag) {
      case I64_1: // time_unix_nano
        record.timeNs = r.fixed64String()
        break
      case I64_11: // observed_time_unix_nano
        record.observedNs = r.fixed64String()
        break
      case VARINT_2: // severity_number (an enum: negative values arrive as 10-byte varints)
        record.severityNumber = r.uint32() | 0
        break
      case LEN_3: // severity_text
        record.severityText = r.string()
        break
      case LEN_5: {
        // body: AnyValue
        const outer = r.enter()
        record.body = anyValue(r, 0)
        r.leave(outer)
        break
      }
      case LEN_6: // attributes
        if (attributeCount++ < MAX_ATTRIBUTES) keyValueAt(r, record.attributes, 0)
        else r.skip(WIRE_LEN)
        break
      case LEN_9: // trace_id
        record.traceId = hexId(r, 16)
        break
      case LEN_10: // span_id
        record.spanId = hexId(r, 8)
        break
      case LEN_12: // event_name
        record.eventName = r.string()
        break
      default:
        // dropped_attributes_count = 7, flags = 8 (fixed32), and anything newer
        r.skip(tag & 7)
    }
  }
  return record
}
