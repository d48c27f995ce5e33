-- The instrumentation scope as OTLP sends it: its version and attributes beside the name
-- spans and log records already kept (metric points kept the version). The scope says which
-- library made an item and which release of it (`openinference.instrumentation.openai` 0.1.x,
-- `@spanlens/sdk` 0.1.0); a trace whose spans come from two versions of an instrumentation
-- is told apart by it. Rows stored before this migration, and rows of spool segments
-- written before it, read '' and an empty map.
ALTER TABLE {{table spans}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS scope_version LowCardinality(String) AFTER scope_name,
    ADD COLUMN IF NOT EXISTS scope_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)) AFTER resource_attributes;

{{distributed_alter spans ADD COLUMN scope_version, scope_attributes}};

ALTER TABLE {{table logs}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS scope_version LowCardinality(String) AFTER scope_name,
    ADD COLUMN IF NOT EXISTS scope_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)) AFTER scope_version;

{{distributed_alter logs ADD COLUMN scope_version, scope_attributes}};

ALTER TABLE {{table metrics}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS scope_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)) AFTER resource_attributes;

{{distributed_alter metrics ADD COLUMN scope_attributes}};
