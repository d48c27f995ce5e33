-- A span's GenAI log records are merged in (time, received, seq) order. seq is a record's
-- place in its export request, so records of one call sent in separate requests tied on
-- both time and seq whenever they shared a time: instrumentation-openai stamps a call's
-- input events with one time, and a SimpleLogRecordProcessor exports each record on its
-- own (a batch processor splits a call's records at its batch size). They were then
-- ordered by their JSON text, "assistant" before "system" before "user". `received` is
-- when the server took the record's request, strictly increasing within one server
-- (packages/ingest/src/pipeline/arrival.ts). Rows stored before this migration, and rows of
-- spool segments written before it, read it as 0 (the epoch): they keep their former order
-- among themselves, before any row of the same time taken since.
ALTER TABLE {{table span_content}} {{on_cluster}} ADD COLUMN IF NOT EXISTS received DateTime64(9) AFTER seq;

{{distributed_alter span_content ADD COLUMN received}};

-- The analysts' spans merge content in the same order as the API (CONTENT_SQL in
-- packages/query/src/content/span-content.ts; a test compares them).
CREATE OR REPLACE VIEW analyst_spans {{on_cluster}} AS
SELECT s.* EXCEPT (project_id, content_filled) REPLACE (
    if((s.input = '' OR s.attributes['spanlens.input.source'] = 'gen_ai.system_instructions' OR bitTest(s.content_filled, 0)) AND c.input != '', c.input, s.input) AS input,
    if((s.output = '' OR bitTest(s.content_filled, 1)) AND c.output != '', c.output, s.output) AS output,
    if((s.finish_reason = '' OR bitTest(s.content_filled, 2)) AND c.finish_reason != '', c.finish_reason, s.finish_reason) AS finish_reason
)
FROM spans AS s FINAL
LEFT JOIN (
    SELECT trace_id, span_id,
        if(length(ins) <= 1, ins[1].4, concat('[', arrayStringConcat(arrayFlatten(arrayMap(x -> JSONExtractArrayRaw(x.4), ins)), ','), ']')) AS input,
        if(length(outs) <= 1, outs[1].4, concat('[', arrayStringConcat(arrayFlatten(arrayMap(x -> JSONExtractArrayRaw(x.4), outs)), ','), ']')) AS output,
        finishes[1].4 AS finish_reason
    FROM (
        SELECT trace_id, span_id,
            arraySort(groupArrayIf((time, received, seq, input), input != '')) AS ins,
            arraySort(groupArrayIf((time, received, seq, output), output != '')) AS outs,
            arraySort(groupArrayIf((time, received, seq, finish_reason), finish_reason != '')) AS finishes
        FROM {{table span_content}} FINAL
        WHERE project_id = {project:String}
        GROUP BY trace_id, span_id
    )
) AS c ON s.trace_id = c.trace_id AND s.span_id = c.span_id
WHERE s.project_id = {project:String};
