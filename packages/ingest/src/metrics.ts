import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { SIGNAL_NAMES, SIGNALS, type Signal } from './pipeline/signals.js'

/** Items of one signal received, acknowledged and rejected, by project. */
function signalCounters(registry: Registry, signal: Signal) {
  const { items } = SIGNALS[signal]
  const noun = items.replace(/_/g, ' ')
  return {
    received: new Counter({
      name: `spanlens_ingest_${items}_received_total`,
      help: `${noun[0]?.toUpperCase()}${noun.slice(1)} decoded from OTLP requests, by project`,
      labelNames: ['project'],
      registers: [registry],
    }),
    accepted: new Counter({
      name: `spanlens_ingest_${items}_accepted_total`,
      help: `${noun[0]?.toUpperCase()}${noun.slice(1)} written to the spool and acknowledged, by project`,
      labelNames: ['project'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: `spanlens_ingest_${items}_rejected_total`,
      help: `${noun[0]?.toUpperCase()}${noun.slice(1)} rejected (partial success), by project and reason`,
      labelNames: ['project', 'reason'],
      registers: [registry],
    }),
  }
}

/** Prometheus metrics for one server instance (own registry, so tests can run several). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'spanlens_' })
  const requests = new Counter({
    name: 'spanlens_ingest_requests_total',
    help: 'OTLP export requests by route and HTTP status',
    labelNames: ['route', 'status'],
    registers: [registry],
  })
  const signals = Object.fromEntries(SIGNAL_NAMES.map((s) => [s, signalCounters(registry, s)])) as Record<Signal, ReturnType<typeof signalCounters>>
  const requestsRejected = new Counter({
    name: 'spanlens_ingest_requests_rejected_total',
    help: 'Whole requests refused, by reason (unauthorized, bad_request, body_too_large, unsupported_media_type, spool_full, overloaded, spool_io)',
    labelNames: ['reason'],
    registers: [registry],
  })
  const repeatedRequests = new Counter({
    name: 'spanlens_ingest_requests_repeated_total',
    help: 'Export requests that repeat one already acknowledged (an exporter retrying after a lost reply), answered as it was and not stored again, by signal and project',
    labelNames: ['signal', 'project'],
    registers: [registry],
  })
  const backpressure = new Counter({
    name: 'spanlens_ingest_backpressure_responses_total',
    help: 'Responses asking the client to retry later (429/503), by status',
    labelNames: ['status'],
    registers: [registry],
  })
  const insertBatches = new Counter({
    name: 'spanlens_insert_batches_total',
    help: 'ClickHouse inserts of spool segments, by result (ok, isolated: some rows refused and dead-lettered, error: retried)',
    labelNames: ['result'],
    registers: [registry],
  })
  const insertRows = new Counter({
    name: 'spanlens_insert_rows_total',
    help: 'Rows confirmed by ClickHouse (every table)',
    registers: [registry],
  })
  const insertVerifiedSegments = new Counter({
    name: 'spanlens_insert_verified_segments_total',
    help: 'Spool segments whose rows were looked up after a retry or replay was answered (an earlier attempt may have reached ClickHouse), by result: complete, or restored (some rows missing and inserted again)',
    labelNames: ['result'],
    registers: [registry],
  })
  const insertRestoredRows = new Counter({
    name: 'spanlens_insert_restored_rows_total',
    help: 'Rows ClickHouse answered as inserted (a retry it deduplicated) but did not hold, inserted again under a new token',
    registers: [registry],
  })
  const insertFailures = new Counter({
    name: 'spanlens_insert_failures_total',
    help: 'Failed inserts by kind: transient (store down or busy), store (schema, permissions), data, partitions, unknown',
    labelNames: ['kind'],
    registers: [registry],
  })
  const insertFailingSegments = new Gauge({
    name: 'spanlens_insert_failing_segments',
    help: 'Spool segments whose last insert failed (each retried; `spanlens dead-letter stuck` lists them)',
    registers: [registry],
  })
  const insertOldestFailingSeconds = new Gauge({
    name: 'spanlens_insert_oldest_failing_segment_seconds',
    help: 'How long the spool segment failing longest has failed without a successful insert (0: none failing)',
    registers: [registry],
  })
  const deadLetterRows = new Counter({
    name: 'spanlens_dead_letter_rows_total',
    help: 'Acknowledged rows ClickHouse refused, isolated into spool/dead, by project and ClickHouse error type',
    labelNames: ['project', 'reason'],
    registers: [registry],
  })
  const deadLetterRowsOnDisk = new Gauge({
    name: 'spanlens_dead_letter_rows',
    help: 'Rows waiting in spool/dead for inspection or replay (spanlens dead-letter)',
    registers: [registry],
  })
  const insertDuration = new Histogram({
    name: 'spanlens_insert_duration_seconds',
    help: 'Duration of one ClickHouse insert of a spool segment',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const spoolBytes = new Gauge({ name: 'spanlens_spool_bytes', help: 'Bytes in the spool not yet confirmed by ClickHouse', registers: [registry] })
  const spoolSegments = new Gauge({ name: 'spanlens_spool_segments', help: 'Spool segments on disk', registers: [registry] })
  const spoolTornRecords = new Counter({
    name: 'spanlens_spool_torn_records_total',
    help: 'Records (requests) cut from the unfinished end of spool segments (a crash mid-write): never acknowledged with SPANLENS_SPOOL_FSYNC=always',
    registers: [registry],
  })
  const spoolTornBytes = new Counter({
    name: 'spanlens_spool_torn_bytes_total',
    help: 'Bytes of rows cut from the unfinished end of spool segments (a crash mid-write)',
    registers: [registry],
  })
  const spoolAge = new Gauge({
    name: 'spanlens_spool_oldest_age_seconds',
    help: 'Age of the oldest spooled data not yet in ClickHouse',
    registers: [registry],
  })
  const ackDuration = new Histogram({
    name: 'spanlens_ingest_ack_duration_seconds',
    help: 'Time from request start to acknowledgement of an OTLP export',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  // Where acknowledgement time goes: CPU on the event loop vs waiting for the disk.
  const prepareDuration = new Histogram({
    name: 'spanlens_ingest_prepare_duration_seconds',
    help: 'Decode, normalize and encode of one OTLP export (event loop or worker)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  })
  const spoolWriteDuration = new Histogram({
    name: 'spanlens_spool_write_duration_seconds',
    help: 'Time for one export to be written to the spool and made durable per SPANLENS_SPOOL_FSYNC',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  })
  const contentMerges = new Counter({
    name: 'spanlens_content_merges_total',
    help: 'Runs of the content merge (content from GenAI logs written onto its spans), by kind (near, full) and result (ok, error)',
    labelNames: ['kind', 'result'],
    registers: [registry],
  })
  const contentMergeKeys = new Counter({
    name: 'spanlens_content_merge_keys_total',
    help: 'Content rows and spans lacking content that the content merge found arrived',
    registers: [registry],
  })
  const connectionsOpen = new Gauge({
    name: 'spanlens_connections_open',
    help: 'Connections the HTTP and OTLP/gRPC listeners hold open, against SPANLENS_MAX_CONNECTIONS',
    registers: [registry],
  })
  const connectionsRefused = new Counter({
    name: 'spanlens_connections_refused_total',
    help: 'Connections closed as they came because SPANLENS_MAX_CONNECTIONS were open, by listener (http, grpc)',
    labelNames: ['listener'],
    registers: [registry],
  })
  return {
    registry,
    connectionsOpen,
    connectionsRefused,
    contentMerges,
    contentMergeKeys,
    prepareDuration,
    spoolWriteDuration,
    requests,
    /** Per signal: items received, accepted, rejected. */
    signals,
    requestsRejected,
    repeatedRequests,
    backpressure,
    insertBatches,
    insertRows,
    insertVerifiedSegments,
    insertRestoredRows,
    insertFailures,
    insertFailingSegments,
    insertOldestFailingSeconds,
    deadLetterRows,
    deadLetterRowsOnDisk,
    insertDuration,
    spoolBytes,
    spoolSegments,
    spoolTornRecords,
    spoolTornBytes,
    spoolAge,
    ackDuration,
  }
}

export type IngestMetrics = ReturnType<typeof createMetrics>
