-- Refusal flag computed once at insert, so bias reports over millions of spans
-- read one UInt8 instead of scanning every completion (bench/query: 1.2 s → see
-- bench/README.md). The phrases must equal REFUSAL_PHRASES in
-- packages/query/src/bias/groups.ts (a test checks); custom phrase lists in a
-- bias request still scan the text. Old parts compute it on read.
ALTER TABLE {{table spans}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS refusal UInt8 MATERIALIZED
    (finish_reason = 'content_filter' OR multiSearchAnyCaseInsensitive(output, ['i can\'t help with', 'i cannot help with', 'i can\'t assist', 'i cannot assist', 'i\'m sorry, but i can', 'i\'m not able to', 'i am not able to', 'i\'m unable to', 'i am unable to', 'i won\'t be able to', 'as an ai language model', 'i must decline', 'i cannot provide', 'i can\'t provide', 'i cannot comply']));

{{distributed_alter spans ADD COLUMN IF NOT EXISTS refusal UInt8}};
