import type { AttrValue, Attrs } from './model.js'

/** The receiver's view of one OTLP log record, independent of wire encoding (logs/v1 LogRecord). */
export interface OtlpLogRecord {
  /** Where the record is in its request, as a refusal names it (counted as DecodedSpan.position). */
  position: number
  resource: Attrs
  scopeName: string
  scopeVersion: string
  /** The scope's attributes: one object for every record of the scope. */
  scopeAttributes: Attrs
  /** Nanoseconds since the epoch, as a decimal string; "0" when the sender did not know it. */
  timeNs: string
  observedNs: string
  /** OTLP SeverityNumber, 0 (unspecified) to 24 (FATAL4); a value this version does not know is read as 0. */
  severityNumber: number
  severityText: string
  /** The AnyValue body as a plain value: a string, a number, an object (kvlist), an array... or null. */
  body: AttrValue
  attributes: Attrs
  /** Attributes past the cap (attribute-cap.ts), left out; absent when none were. */
  droppedAttributes?: number
  /** Lower-case hex; '' when the record is not tied to a trace or span. */
  traceId: string
  spanId: string
  /** LogRecord.event_name (field 12); older senders put the name in the `event.name` attribute instead. */
  eventName: string
}

export interface DecodedLogs {
  records: OtlpLogRecord[]
  rejected: number
  /** Why records were rejected; a few examples, not one per record. */
  problems: string[]
}
