/**
 * The OTLP signals the receiver takes, one row each: what differs between them
 * on the wire and on /metrics. Everything else (admission, body limits, auth,
 * spool, insert, replies) is shared (receiver/export.ts). A signal also has a row
 * in pipeline/prepare.ts (its decoder and normalizer) and is then served on
 * POST /v1/<signal> (routes/otlp.ts) and its gRPC method (grpc/services.ts).
 */
export const SIGNALS = {
  traces: {
    /** `/package.Service/Method` of its OTLP/gRPC collector service. */
    grpcMethod: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    /** The count of its partial success in OTLP JSON (field 1 of the protobuf message in every signal). */
    rejectedField: 'rejectedSpans',
    /** Its items in metric names (spanlens_ingest_<items>_received_total) and replies. */
    items: 'spans',
    item: 'span',
  },
  metrics: {
    grpcMethod: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    rejectedField: 'rejectedDataPoints',
    items: 'data_points',
    item: 'data point',
  },
  logs: {
    grpcMethod: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
    rejectedField: 'rejectedLogRecords',
    items: 'log_records',
    item: 'log record',
  },
} as const

export type Signal = keyof typeof SIGNALS
export const SIGNAL_NAMES = Object.keys(SIGNALS) as Signal[]
