-- One row per OTLP metric data point, every type in one table: gauge and sum
-- points fill `value`; histograms `count`, `sum`, `min`, `max`, `bucket_counts`
-- and `explicit_bounds`; exponential histograms `scale`, `zero_count` and the
-- positive/negative offsets and counts; summaries `quantiles`. A column a type
-- does not use holds its default, which costs a few bytes per granule.
-- Temporality is stored as sent; cumulative streams are turned into increments
-- at query time, per series_id (docs/metrics.md has the rule).
-- Ordered for "this metric over this time": a project's points of one name,
-- by hour, then each series' points in time order (what the increments need).
-- ReplacingMergeTree keyed on (project, name, hour, series, time) makes a
-- re-delivered point collapse to one row; the insert deduplication window makes
-- a replayed spool batch a no-op before merges even run.
CREATE TABLE IF NOT EXISTS {{table metrics}} {{on_cluster}}
(
    project_id              LowCardinality(String),
    name                    LowCardinality(String),
    description             LowCardinality(String),
    unit                    LowCardinality(String),
    type                    LowCardinality(String),
    temporality             LowCardinality(String),
    is_monotonic            UInt8,
    series_id               UInt64,
    service_name            LowCardinality(String),
    scope_name              LowCardinality(String),
    scope_version           LowCardinality(String),
    start_time              DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    time                    DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    value                   Float64 CODEC(ZSTD(1)),
    count                   UInt64 CODEC(T64, ZSTD(1)),
    sum                     Nullable(Float64) CODEC(ZSTD(1)),
    min                     Nullable(Float64) CODEC(ZSTD(1)),
    max                     Nullable(Float64) CODEC(ZSTD(1)),
    bucket_counts           Array(UInt64) CODEC(ZSTD(1)),
    explicit_bounds         Array(Float64) CODEC(ZSTD(1)),
    scale                   Int32 CODEC(ZSTD(1)),
    zero_count              UInt64 CODEC(ZSTD(1)),
    zero_threshold          Float64 CODEC(ZSTD(1)),
    positive_offset         Int32 CODEC(ZSTD(1)),
    positive_bucket_counts  Array(UInt64) CODEC(ZSTD(1)),
    negative_offset         Int32 CODEC(ZSTD(1)),
    negative_bucket_counts  Array(UInt64) CODEC(ZSTD(1)),
    quantiles Nested
    (
        quantile    Float64,
        value       Float64
    ),
    flags                   UInt32,
    attributes              Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_attributes     Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    exemplars Nested
    (
        time        DateTime64(9),
        value       Float64,
        trace_id    String,
        span_id     String,
        attributes  Map(LowCardinality(String), String)
    ),
    ingested_at             DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toDate(time)
ORDER BY (project_id, name, toStartOfHour(time), series_id, time)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

-- Sharded by series: a series' points, and any re-delivery of one, land on one
-- shard, where ReplacingMergeTree can collapse them.
{{distributed metrics series_id}};

-- For analysts, like 004's views: POST /api/v1/sql rewrites `metrics` to it.
CREATE VIEW IF NOT EXISTS analyst_metrics {{on_cluster}} AS
SELECT * EXCEPT (project_id)
FROM metrics FINAL
WHERE project_id = {project:String};
