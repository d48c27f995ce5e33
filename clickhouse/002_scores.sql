-- Feedback and evaluation scores. Sharded like spans (by trace) so a trace and
-- its scores live on the same shard. A score re-posted with the same score_id
-- replaces the earlier one.
CREATE TABLE IF NOT EXISTS {{table scores}} {{on_cluster}}
(
    project_id    LowCardinality(String),
    score_id      String,
    trace_id      String CODEC(ZSTD(1)),
    span_id       String CODEC(ZSTD(1)),
    name          LowCardinality(String),
    value         Nullable(Float64),
    string_value  String CODEC(ZSTD(1)),
    data_type     LowCardinality(String),
    source        LowCardinality(String),
    comment       String CODEC(ZSTD(3)),
    author        String CODEC(ZSTD(1)),
    metadata      Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    timestamp     DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    ingested_at   DateTime64(3) DEFAULT now64(3),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project_id, name, toDate(timestamp), score_id)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

{{distributed scores cityHash64(trace_id)}};
