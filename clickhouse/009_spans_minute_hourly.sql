-- The per-minute rollup (003) kept again by hour, as a projection: the summary's
-- whole hours read 60 times fewer rows and t-digest states. Over 7 days of 10 million
-- spans the hourly summary merged 120,000 minute states per latency percentile (24
-- times its bare scan of the counters); the projection holds 2,000 (bench/README.md,
-- "Query"). packages/query/src/traces/summary.ts reads whole hours through it and the
-- minutes at a range's ragged ends from the table itself; ClickHouse picks the
-- projection for a part that has it and reads the part's rows otherwise, so a
-- query's answer is the same before and after it is built.
-- Its key is toStartOfHour(minute, 'UTC'), the epoch-aligned hour the summary's
-- buckets are cut at, whatever the server's time zone.
-- A projection of an AggregatingMergeTree is rebuilt on merges, where rows collapse
-- (ClickHouse refuses it otherwise).
ALTER TABLE {{table spans_minute}} {{on_cluster}} MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

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
        sum(cost_usd),
        sum(cost_unknown),
        sum(duration_sum_ms),
        max(duration_max_ms),
        quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(duration_q),
        sum(ttft_count),
        quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(ttft_q)
    GROUP BY project_id, toStartOfHour(minute, 'UTC'), service_name, model, provider, operation, kind, environment, release
);

-- Builds it for the parts that exist (a mutation, in the background); new parts get it
-- as they are written.
ALTER TABLE {{table spans_minute}} {{on_cluster}} MATERIALIZE PROJECTION hourly;
