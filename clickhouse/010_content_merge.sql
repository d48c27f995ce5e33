-- Content that arrived as GenAI log records (span_content, 007) merged onto its span in
-- storage, so that analytics read spans as stored: drift's text signals and bias refusals
-- over a read-time join read every selected span's trace and span ids, 4 to 5 times the
-- cost of the scan itself at 10 million spans (bench/README.md, "Query"). The merge is a
-- background job of the server (packages/ingest/src/jobs/content-merge.ts running
-- packages/query/src/content/merge.ts): for each span whose content rows or whose own row
-- arrived since the last run, it writes a newer version of the span (a newer ingested_at, so
-- ReplacingMergeTree keeps it) with the content filled by the rule of span-content.ts.

-- Which of a span's columns that version filled from content: bit 0 input, bit 1 output,
-- bit 2 finish reason. 0 on every span as sent. A filled column counts as empty for
-- content that arrives later (its rows merge again, in time order, all of them), and a
-- version with any bit set is the merge's own, which the rollup below must not count again.
ALTER TABLE {{table spans}} {{on_cluster}} ADD COLUMN IF NOT EXISTS content_filled UInt8 DEFAULT 0;

{{distributed_alter spans ADD COLUMN IF NOT EXISTS content_filled UInt8}};

-- What arrived since the last run is found by ingested_at, which no sorting key leads with:
-- a min-max index per granule lets a run skip the parts and granules written before it.
ALTER TABLE {{table spans}} {{on_cluster}} ADD INDEX IF NOT EXISTS idx_ingested_at ingested_at TYPE minmax GRANULARITY 1;
ALTER TABLE {{table spans}} {{on_cluster}} MATERIALIZE INDEX idx_ingested_at;
ALTER TABLE {{table span_content}} {{on_cluster}} ADD INDEX IF NOT EXISTS idx_ingested_at ingested_at TYPE minmax GRANULARITY 1;
ALTER TABLE {{table span_content}} {{on_cluster}} MATERIALIZE INDEX idx_ingested_at;

-- The rollup counts each span once, as sent: a merged version holds the same call.
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

-- How far the merge has run, per kind of run (near, full: content/merge.ts): the ingested_at
-- (milliseconds since the epoch) up to which every content row and span has been merged. One
-- row per run; the greatest of a kind counts.
CREATE TABLE IF NOT EXISTS {{table content_merges}} {{on_cluster}}
(
    kind        LowCardinality(String),
    merged_to   Int64,
    at          DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(merged_to)}}
ORDER BY kind;

{{distributed content_merges rand()}};

-- The analysts' spans apply the rule as span-content.ts now states it: a column the merge
-- filled takes the content again (it may have grown since), and content_filled stays hidden.
CREATE OR REPLACE VIEW analyst_spans {{on_cluster}} AS
SELECT s.* EXCEPT (project_id, content_filled) REPLACE (
    if((s.input = '' OR s.attributes['spanlens.input.source'] = 'gen_ai.system_instructions' OR bitTest(s.content_filled, 0)) AND c.input != '', c.input, s.input) AS input,
    if((s.output = '' OR bitTest(s.content_filled, 1)) AND c.output != '', c.output, s.output) AS output,
    if((s.finish_reason = '' OR bitTest(s.content_filled, 2)) AND c.finish_reason != '', c.finish_reason, s.finish_reason) AS finish_reason
)
FROM spans AS s FINAL
LEFT JOIN (
    SELECT trace_id, span_id,
        if(length(ins) <= 1, ins[1].3, concat('[', arrayStringConcat(arrayFlatten(arrayMap(x -> JSONExtractArrayRaw(x.3), ins)), ','), ']')) AS input,
        if(length(outs) <= 1, outs[1].3, concat('[', arrayStringConcat(arrayFlatten(arrayMap(x -> JSONExtractArrayRaw(x.3), outs)), ','), ']')) AS output,
        finishes[1].3 AS finish_reason
    FROM (
        SELECT trace_id, span_id,
            arraySort(groupArrayIf((time, seq, input), input != '')) AS ins,
            arraySort(groupArrayIf((time, seq, output), output != '')) AS outs,
            arraySort(groupArrayIf((time, seq, finish_reason), finish_reason != '')) AS finishes
        FROM {{table span_content}} FINAL
        WHERE project_id = {project:String}
        GROUP BY trace_id, span_id
    )
) AS c ON s.trace_id = c.trace_id AND s.span_id = c.span_id
WHERE s.project_id = {project:String};
