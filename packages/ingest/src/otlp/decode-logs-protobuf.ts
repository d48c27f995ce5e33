import { readEnvelope, type ScopeInfo } from './envelope-protobuf.js'
import type { OtlpLogRecord } from './log-model.js'
import type { Attrs } from './model.js'
import { anyValue, hexId } from './values-protobuf.js'
import { WireAttributes } from './attribute-cap.js'
import { isLogConventionKey } from '../normalize/convention-keys.js'
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, type WireReader } from './wire.js'

/**
 * ExportLogsServiceRequest (opentelemetry-proto logs/v1) decoded straight from
 * the wire, with the envelope and value readers every signal shares; field
 * numbers in the comments. Unknown fields, and known ones with an unexpected wire
 * type, are skipped; structural damage throws a WireError (a 400).
 */

/** Receives each record decoded; decode-logs.ts validates it. */
export interface LogSink {
  record(record: OtlpLogRecord): void
}

const key = (field: number, wireType: number): number => (field << 3) | wireType
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
  readEnvelope(buf, (r, resource, scope, position) => sink.record(readLogRecord(r, position, resource, scope)))
}

function readLogRecord(r: WireReader, position: number, resource: Attrs, scope: ScopeInfo): OtlpLogRecord {
  const record: OtlpLogRecord = {
    position,
    resource,
    scopeName: scope.name,
    scopeVersion: scope.version,
    scopeAttributes: scope.attributes,
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
  const attributes = new WireAttributes(record.attributes, isLogConventionKey)
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
        attributes.next(r)
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
  attributes.noteDroppedOn(record)
  return record
}
