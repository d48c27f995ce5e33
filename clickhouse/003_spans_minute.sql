-- Per-minute rollup for dashboards and SLOs: counts, errors, token and cost sums,
-- latency and TTFT t-digest states. Read with sum() and quantilesTDigestMerge().
-- Note: a span delivered twice before ReplacingMergeTree merges it is counted
-- twice here unless the second insert was deduplicated: the spool's replays are,
-- here too, because inserts set deduplicate_blocks_in_dependent_materialized_views
-- and this table keeps a deduplication window.
CREATE TABLE IF NOT EXISTS {{table spans_minute}} {{on_cluster}}
(
    project_id          LowCardinality(String),
    minute              DateTime CODEC(Delta(4), ZSTD(1)),
    service_name        LowCardinality(String),
    model               LowCardinality(String),
    provider            LowCardinality(String),
    operation           LowCardinality(String),
    kind                LowCardinality(String),
    environment         LowCardinality(String),
    release             LowCardinality(String),
    calls               SimpleAggregateFunction(sum, UInt64),
    errors              SimpleAggregateFunction(sum, UInt64),
    input_tokens        SimpleAggregateFunction(sum, UInt64),
    output_tokens       SimpleAggregateFunction(sum, UInt64),
    total_tokens        SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens   SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens    SimpleAggregateFunction(sum, UInt64),
    cost_usd            SimpleAggregateFunction(sum, Float64),
    cost_unknown        SimpleAggregateFunction(sum, UInt64),
    duration_sum_ms     SimpleAggregateFunction(sum, Float64),
    duration_max_ms     SimpleAggregateFunction(max, Float64),
    duration_q          AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64),
    ttft_count          SimpleAggregateFunction(sum, UInt64),
    ttft_q              AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64)
)
ENGINE = {{engine AggregatingMergeTree}}
PARTITION BY toYYYYMM(minute)
ORDER BY (project_id, minute, service_name, model, provider, operation, kind, environment, release)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

{{distributed spans_minute rand()}};

CREATE MATERIALIZED VIEW IF NOT EXISTS spans_minute_mv {{on_cluster}}
TO {{table spans_minute}}
AS SELECT
    project_id,
    toStartOfMinute(start_time) AS minute,
    service_name,
    if(request_model != '', request_model, response_model) AS model,
    provider,
    operation,
    kind,
    environment,
    release,
    count() AS calls,
    countIf(status_code = 'error') AS errors,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(total_tokens) AS total_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, 0)) AS cost_usd,
    countIf(s.kind = 'llm' AND s.cost_usd IS NULL) AS cost_unknown,
    sum(duration_ms) AS duration_sum_ms,
    max(duration_ms) AS duration_max_ms,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(duration_ms) AS duration_q,
    count(ttft_ms) AS ttft_count,
    quantilesTDigestStateIf(0.5, 0.9, 0.95, 0.99)(assumeNotNull(ttft_ms), ttft_ms IS NOT NULL) AS ttft_q
FROM {{table spans}} AS s
GROUP BY project_id, minute, service_name, model, provider, operation, kind, environment, release;
