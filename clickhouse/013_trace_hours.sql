-- Each trace's spans by hour: where its roots and its spans start. The trace listing's
-- count (total=1) and its orders other than newest-first need the whole set of listed
-- traces (packages/query/src/traces/listed.ts): every trace with a root in the range, and
-- every trace with spans in the range and no root within reach of it. Found from spans,
-- that is one pass over every span of the range grouped by hour and trace, twice the cost
-- of counting roots alone; this table holds one row per trace and hour (four spans to a row
-- on the bench's traces) and answers the same question (traces/trace-hours.ts).
--
-- Only minima and maxima, never counts or sums: a span stored twice (delivered again in
-- another request, a spool segment replayed after its deduplication window, the content
-- merge's newer version) moves none of them, so the table answers exactly what the spans
-- read without FINAL answer, whatever was inserted twice. The merge's versions are
-- skipped all the same: the same times, written again.
-- Its hour is the epoch-aligned UTC hour (toStartOfHour(start_time, 'UTC')), which the
-- reads compute from their bounds the same way whatever the server's time zone.
CREATE TABLE IF NOT EXISTS {{table trace_hours}} {{on_cluster}}
(
    project_id   LowCardinality(String),
    hour         DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    trace_id     String CODEC(ZSTD(1)),
    -- NULL when no span of the trace starting in this hour is a root
    first_root   SimpleAggregateFunction(min, Nullable(DateTime64(9))),
    last_root    SimpleAggregateFunction(max, Nullable(DateTime64(9))),
    first_start  SimpleAggregateFunction(min, DateTime64(9)),
    last_start   SimpleAggregateFunction(max, DateTime64(9))
)
ENGINE = {{engine AggregatingMergeTree}}
PARTITION BY toDate(hour)
ORDER BY (project_id, hour, trace_id)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, {{dedup_window 10000}};

-- By trace, as spans are: a trace's rows and its spans are on one shard, so a read that
-- matches spans to it by trace id stays on each shard (distributed_product_mode = 'local').
{{distributed trace_hours cityHash64(trace_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS trace_hours_mv {{on_cluster}}
TO {{table trace_hours}}
AS SELECT
    project_id,
    toStartOfHour(start_time, 'UTC') AS hour,
    trace_id,
    minIf(toNullable(start_time), parent_span_id = '') AS first_root,
    maxIf(toNullable(start_time), parent_span_id = '') AS last_root,
    min(start_time) AS first_start,
    max(start_time) AS last_start
FROM {{table spans}}
WHERE content_filled = 0
GROUP BY project_id, hour, trace_id;

-- The spans stored before the view: after it, so a span another server stores between the
-- two statements is in the table once or twice, never missing (twice changes no minimum or
-- maximum). No insert_deduplication_token: it would drop a second run's blocks by their
-- index, and the blocks of a GROUP BY hold other groups from run to run, so a run cut short
-- (a shutdown or crash mid-migration; the migration is not recorded and runs again at the
-- next start) followed by a whole one could miss rows. Run twice, whole or in part (two
-- servers migrating at once), it changes no answer.
INSERT INTO {{data trace_hours}}
SELECT
    project_id,
    toStartOfHour(start_time, 'UTC') AS hour,
    trace_id,
    minIf(toNullable(start_time), parent_span_id = '') AS first_root,
    maxIf(toNullable(start_time), parent_span_id = '') AS last_root,
    min(start_time) AS first_start,
    max(start_time) AS last_start
FROM {{data spans}}
WHERE content_filled = 0
GROUP BY project_id, hour, trace_id;
