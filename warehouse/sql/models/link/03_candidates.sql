-- name:    link_candidates (temp) — block, part 2: which pairs are worth scoring
-- grain:   one row per (record, Dukcapil person) pair sharing a bucket of link_blocks
-- columns: rec_id, nik (the person's), rule_bits (the blocking rules that proposed the pair,
--          one bit each, see link_blocks and jkn_rule_names)
-- Each record meets at most max_bucket people per rule (03_blocks.sql): the pairs grow with
-- the records, not with records × the size of the place they are drawn in.
create or replace temp table link_candidates as
with final as (
    -- one bit per rule (see jkn_rule_names): an integer aggregates far faster than a list
    select r.id as rec_id, p.id as nik, bit_or(r.rule_bit) as rule_bits
    from link_blocks as r
    inner join link_blocks as p
        on p.kind = r.kind and p.level = r.level and p.bucket = r.bucket
    where r.side = 'record' and p.side = 'person'
    group by r.id, p.id
)

select * from final
