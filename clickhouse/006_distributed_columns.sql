-- On a cluster, each Distributed table is re-derived from its local table so
-- that their columns agree. 005 once added a plain `refusal UInt8` to the
-- Distributed `spans` while spans_local has it MATERIALIZED: every insert then
-- sent refusal to the shards and failed (Code 44, Cannot insert column refusal,
-- because it is MATERIALIZED column). A single server has no Distributed
-- tables: nothing to do there.
{{distributed_sync spans}};
{{distributed_sync scores}};
{{distributed_sync spans_minute}};
