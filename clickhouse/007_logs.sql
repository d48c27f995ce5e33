-- OTLP log records, one row each (packages/ingest/src/schema/log-columns.ts).
-- Ordered for what is asked of them: a span's or a trace's logs (GET
-- /api/v1/traces/:id/logs), then time. A record sent twice (an exporter's retry
-- after a lost reply) has the same sorting key, record_hash included, and
-- collapses; a replayed spool segment is dropped by its insert token first.
-- Sharded like spans, by trace, so a trace's logs are on its spans' shard; records
-- outside any trace are spread by their own content.
CREATE TABLE IF NOT EXISTS {{table logs}} {{on_cluster}}
(
    project_id          LowCardinality(String),
    timestamp           DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    observed_timestamp  DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    trace_id            String CODEC(ZSTD(1)),
    span_id             String CODEC(ZSTD(1)),
    severity_number     UInt8,
    severity_text       LowCardinality(String),
    event_name          LowCardinality(String),
    body                String CODEC(ZSTD(3)),
    attributes          Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    service_name        LowCardinality(String),
    scope_name          LowCardinality(String),
    ingested_at         DateTime64(3) DEFAULT now64(3),
    record_hash         UInt64 MATERIALIZED cityHash64(observed_timestamp, severity_number, severity_text, event_name, body, attributes, scope_name),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toDate(timestamp)
ORDER BY (project_id, trace_id, span_id, timestamp, record_hash)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

{{distributed logs if(trace_id = '', cityHash64(timestamp, body), cityHash64(trace_id))}};

-- What GenAI log records (gen_ai.*.message, gen_ai.choice, gen_ai.client.inference.operation.details)
-- say about their span's content, one row per record, in the span's own message JSON
-- (schema/span-content-columns.ts). Spans and logs arrive in separate requests, in any order,
-- so nothing is merged at ingest: reads fill a span's empty input, output and finish reason
-- from these rows (packages/query/src/content/span-content.ts and analyst_spans below).
CREATE TABLE IF NOT EXISTS {{table span_content}} {{on_cluster}}
(
    project_id     LowCardinality(String),
    trace_id       String CODEC(ZSTD(1)),
    span_id        String CODEC(ZSTD(1)),
    time           DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    seq            UInt32,
    input          String CODEC(ZSTD(3)),
    output         String CODEC(ZSTD(3)),
    finish_reason  LowCardinality(String),
    ingested_at    DateTime64(3) DEFAULT now64(3),
    content_hash   UInt64 MATERIALIZED cityHash64(input, output, finish_reason)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toDate(time)
ORDER BY (project_id, trace_id, span_id, time, seq, content_hash)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

{{distributed span_content cityHash64(trace_id)}};

CREATE VIEW IF NOT EXISTS analyst_logs {{on_cluster}} AS
SELECT * EXCEPT (project_id)
FROM logs FINAL
WHERE project_id = {project:String};

-- The analysts' spans show the content that arrived as logs, as the API does: a span's
-- empty input (or one holding only gen_ai.system_instructions), output and finish reason
-- are filled from its span_content rows, merged in (time, seq) order. Must say what
-- CONTENT_SQL in packages/query/src/content/span-content.ts says (a test compares them).
-- The join reads the local content table: on a cluster each shard joins its own spans with
-- its own content (both are sharded by trace), whatever the client's distributed_product_mode.
CREATE OR REPLACE VIEW analyst_spans {{on_cluster}} AS
SELECT s.* EXCEPT (project_id) REPLACE (
    if((s.input = '' OR s.attributes['spanlens.input.source'] = 'gen_ai.system_instructions') AND c.input != '', c.input, s.input) AS input,
    if(s.output = '' AND c.output != '', c.output, s.output) AS output,
    if(s.finish_reason = '' AND c.finish_reason != '', c.finish_reason, s.finish_reason) AS finish_reason
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
