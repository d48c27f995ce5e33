import type { PriceTable } from '../normalize/cost.js'
import type { Redactor } from '../normalize/redact.js'
import type { BufferPool } from './buffer-pool.js'
import { prepareMetrics } from './prepare-metrics.js'
import { prepareLogs } from './prepare-logs.js'
import { prepareTraces } from './prepare-traces.js'
import type { Signal } from './signals.js'

export type BodyFormat = 'protobuf' | 'json'

/** One table's rows of a request, in the spool format (row-format.ts), one per line. */
export interface PreparedBatch {
  /** A table of pipeline/tables.ts. */
  table: string
  payload: Uint8Array
  rows: number
}

/** One request turned into spool-ready rows: the CPU-heavy part of ingest. */
export interface Prepared {
  /** The rows of each table the request writes; empty when nothing survived. */
  batches: PreparedBatch[]
  /** Items (spans, log records...) kept: what the reply does not count as rejected. */
  accepted: number
  /** Items invalid on the wire. */
  invalid: number
  /** Items the normalizer could not map (a bug, never expected). */
  failed: number
  /** Items whose time is outside what the store keeps (time-window.ts). */
  outOfWindow: number
  problems: string[]
  /**
   * What identifies a repeat of this request (repeated-requests.ts): traces, whenever it carried a
   * span; logs, when a kept record had neither time nor observed time and took the request's arrival.
   */
  fingerprint?: string | undefined
  /** Traces: the model calls with usage the request's rows count (recent-model-calls.ts). */
  modelCalls?: ModelCall[] | undefined
}

/** A counted model call with usage, as a stacked pair split across two requests is matched by (recent-model-calls.ts). */
export interface ModelCall {
  traceId: string
  spanId: string
  parentSpanId: string
  kind: string
  inputTokens: number
  outputTokens: number
}

/** What a request's second preparation takes from its first (ingest.ts). */
export interface Again {
  /** Traces: span key (`trace/span`) → the span id of the call that counts, for calls that duplicate one received earlier. */
  demote?: ReadonlyMap<string, string> | undefined
}

/** What one request brings to its preparation besides its body: when it arrived, and on a second preparation what the first found. */
export interface PerRequest extends Again {
  /** When this server took the request (arrival.ts). */
  receivedNs: string
}

export interface PrepareContext {
  prices: PriceTable
  redact?: Redactor | undefined
  /** Where the rows' buffer comes from (event-loop prepare only: a worker's buffer is transferred). */
  pool?: BufferPool | undefined
  /** SPANLENS_RETENTION_DAYS: a span that starts (a record timestamped) before it is refused (0: no lower bound). */
  retentionDays?: number | undefined
  /**
   * The most bytes of rows one request may become. Each row repeats its
   * resource's attributes, so a small body of many spans can expand far past
   * the body limit (the fuzz found 1.1 MB becoming 288 MB).
   */
  maxRowBytes?: number | undefined
  /** Traces: model calls to demote as duplicates of a call an earlier request carried (Again). */
  demote?: ReadonlyMap<string, string> | undefined
  /**
   * Logs: when this server took the request (PerRequest); a record with neither time nor observed
   * time takes it, and a span's content rows are read in its order. Now, when not given.
   */
  receivedNs?: string | undefined
}

type Prepare = (format: BodyFormat, body: Buffer, project: string, ctx: PrepareContext) => Prepared

/** Each OTLP signal's export request, decoded, validated, normalized and encoded into its tables' rows: one row per signal. */
const PREPARE: Record<Signal, Prepare> = {
  traces: prepareTraces,
  metrics: prepareMetrics,
  logs: prepareLogs,
}

/** decode → validate → normalize → encode. Throws SPANLENS_BAD_OTLP for an undecodable body. */
export function prepare(signal: Signal, format: BodyFormat, body: Uint8Array, project: string, ctx: PrepareContext): Prepared {
  return PREPARE[signal](format, Buffer.from(body.buffer, body.byteOffset, body.byteLength), project, ctx)
}
