-- A score re-posted with its id replaces the earlier one whatever changed. The table
-- folds rows by its sorting key (project_id, name, day, score_id), so a re-post under
-- another name or on another day was a second score beside the first. POST /scores
-- now writes, for each earlier version under another key, a copy marked `deleted`:
-- it folds that version away under its own key (same trace, so the same shard), and
-- every read keeps only rows with deleted = 0 (packages/query/src/scores/live.ts).
ALTER TABLE {{table scores}} {{on_cluster}} ADD COLUMN IF NOT EXISTS deleted UInt8 DEFAULT 0;

-- A re-post first looks its id up across the project's scores, which the key orders by name.
ALTER TABLE {{table scores}} {{on_cluster}} ADD INDEX IF NOT EXISTS idx_score_id score_id TYPE bloom_filter(0.001) GRANULARITY 1;

{{distributed_alter scores ADD COLUMN deleted}};

-- The analysts' view lists the table's columns as they were when it was made, and
-- must not show a replaced version.
CREATE OR REPLACE VIEW analyst_scores {{on_cluster}} AS
SELECT * EXCEPT (project_id, deleted)
FROM scores FINAL
WHERE project_id = {project:String} AND deleted = 0;
