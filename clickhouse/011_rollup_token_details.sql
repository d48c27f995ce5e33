-- Every token count a span stores, in the per-minute rollup and its hourly projection, so
-- the summary reports cache reads, cache writes and reasoning tokens beside input and
-- output (packages/query/src/traces/span-row.ts, TOKEN_FIELDS) and still reads whole
-- hours through the projection: a query that reads a column the projection lacks reads
-- the minutes instead, 24 times the states (clickhouse/009).

ALTER TABLE {{table spans_minute}} {{on_cluster}} ADD COLUMN IF NOT EXISTS cache_write_tokens SimpleAggregateFunction(sum, UInt64) AFTER cache_read_tokens;

{{distributed_alter spans_minute ADD COLUMN cache_write_tokens}};

-- The minutes counted before this migration get their cache writes from the spans as
-- the view counted them (each version as sent, content_filled = 0): one row per minute
-- and group that had any, adding only cache_write_tokens (its calls, sums and digests
-- are empty, so every other figure is unchanged). Run before the view counts the
-- column, so no span is counted by both; a span another server stores between the two
-- statements is not counted in cache_write_tokens. The token makes the insert happen
-- once when two servers migrate at the same time (the table's deduplication window).
INSERT INTO {{data spans_minute}}
SELECT
    project_id,
    toStartOfMinute(start_time) AS minute,
    service_name,
    if(request_model != '', request_model, response_model) AS model,
    provider,
    operation,
    kind,
    environment,
    release,
    0 AS calls,
    0 AS errors,
    0 AS input_tokens,
    0 AS output_tokens,
    0 AS total_tokens,
    0 AS cache_read_tokens,
    sum(s.cache_write_tokens) AS cache_write_tokens,
    0 AS reasoning_tokens,
    0 AS cost_usd,
    0 AS cost_unknown,
    0 AS duration_sum_ms,
    0 AS duration_max_ms,
    quantilesTDigestStateIf(0.5, 0.9, 0.95, 0.99)(toFloat64(0), 0) AS duration_q,
    0 AS ttft_count,
    quantilesTDigestStateIf(0.5, 0.9, 0.95, 0.99)(toFloat64(0), 0) AS ttft_q
FROM {{data spans}} AS s
WHERE s.content_filled = 0 AND s.cache_write_tokens > 0
GROUP BY project_id, minute, service_name, model, provider, operation, kind, environment, release
SETTINGS insert_deduplication_token = '011_rollup_token_details';

ALTER TABLE spans_minute_mv {{on_cluster}} MODIFY QUERY
SELECT
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
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, 0)) AS cost_usd,
    countIf(s.kind = 'llm' AND s.cost_usd IS NULL) AS cost_unknown,
    sum(duration_ms) AS duration_sum_ms,
    max(duration_ms) AS duration_max_ms,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(duration_ms) AS duration_q,
    count(ttft_ms) AS ttft_count,
    quantilesTDigestStateIf(0.5, 0.9, 0.95, 0.99)(assumeNotNull(ttft_ms), ttft_ms IS NOT NULL) AS ttft_q
FROM {{table spans}} AS s
WHERE s.content_filled = 0
GROUP BY project_id, minute, service_name, model, provider, operation, kind, environment, release;

-- The hourly projection again, with the token details. A projection cannot be altered:
-- it is dropped and added under its name; until a part's is rebuilt (the mutation
-- below, in the background), queries read that part's minutes, with the same answer.
ALTER TABLE {{table spans_minute}} {{on_cluster}} DROP PROJECTION IF EXISTS hourly;

ALTER TABLE {{table spans_minute}} {{on_cluster}} ADD PROJECTION IF NOT EXISTS hourly
(
    SELECT
        project_id,
        toStartOfHour(minute, 'UTC'),
        service_name,
        model,
        provider,
        operation,
        kind,
        environment,
        release,
        sum(calls),
        sum(errors),
        sum(input_tokens),
        sum(output_tokens),
        sum(total_tokens),
        sum(cache_read_tokens),
        sum(cache_write_tokens),
        sum(reasoning_tokens),
        sum(cost_usd),
        sum(cost_unknown),
        sum(duration_sum_ms),
        max(duration_max_ms),
        quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(duration_q),
        sum(ttft_count),
        quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(ttft_q)
    GROUP BY project_id, toStartOfHour(minute, 'UTC'), service_name, model, provider, operation, kind, environment, release
);

ALTER TABLE {{table spans_minute}} {{on_cluster}} MATERIALIZE PROJECTION hourly;

-- The analysts' view lists the rollup's columns as they were when it was made.
CREATE OR REPLACE VIEW analyst_spans_minute {{on_cluster}} AS
SELECT * EXCEPT (project_id)
FROM spans_minute
WHERE project_id = {project:String};
