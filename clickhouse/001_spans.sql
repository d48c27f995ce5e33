-- One row per span. Ordered for the three questions that matter most:
-- a project's recent spans by time, one trace by id (the hour bucket keeps a
-- trace's spans together, the bloom filter finds it), and aggregates over time.
-- ReplacingMergeTree keyed on (project, hour, trace, span) makes re-delivered
-- spans collapse to one row; the insert deduplication window makes a replayed
-- spool batch a no-op before merges even run.
CREATE TABLE IF NOT EXISTS {{table spans}} {{on_cluster}}
(
    project_id          LowCardinality(String),
    trace_id            String CODEC(ZSTD(1)),
    span_id             String CODEC(ZSTD(1)),
    parent_span_id      String CODEC(ZSTD(1)),
    name                LowCardinality(String),
    kind                LowCardinality(String),
    span_kind           LowCardinality(String),
    service_name        LowCardinality(String),
    scope_name          LowCardinality(String),
    start_time          DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    end_time            DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    duration_ms         Float64 CODEC(ZSTD(1)),
    status_code         LowCardinality(String),
    status_message      String CODEC(ZSTD(1)),
    error_type          LowCardinality(String),
    provider            LowCardinality(String),
    operation           LowCardinality(String),
    request_model       LowCardinality(String),
    response_model      LowCardinality(String),
    input_tokens        UInt32 CODEC(T64, ZSTD(1)),
    output_tokens       UInt32 CODEC(T64, ZSTD(1)),
    total_tokens        UInt32 CODEC(T64, ZSTD(1)),
    cache_read_tokens   UInt32 CODEC(T64, ZSTD(1)),
    cache_write_tokens  UInt32 CODEC(T64, ZSTD(1)),
    reasoning_tokens    UInt32 CODEC(T64, ZSTD(1)),
    cost_usd            Nullable(Float64) CODEC(ZSTD(1)),
    ttft_ms             Nullable(Float64) CODEC(ZSTD(1)),
    finish_reason       LowCardinality(String),
    input               String CODEC(ZSTD(3)),
    output              String CODEC(ZSTD(3)),
    user_id             String CODEC(ZSTD(1)),
    session_id          String CODEC(ZSTD(1)),
    environment         LowCardinality(String),
    release             LowCardinality(String),
    tags                Array(LowCardinality(String)),
    attributes          Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    events Nested
    (
        time        DateTime64(9),
        name        LowCardinality(String),
        attributes  Map(LowCardinality(String), String)
    ),
    links Nested
    (
        trace_id    String,
        span_id     String,
        attributes  Map(LowCardinality(String), String)
    ),
    embedding           Array(Float32) CODEC(ZSTD(1)),
    ingested_at         DateTime64(3) DEFAULT now64(3),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toDate(start_time)
ORDER BY (project_id, toStartOfHour(start_time), trace_id, span_id)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

{{distributed spans cityHash64(trace_id)}};
