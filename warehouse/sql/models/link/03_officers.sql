-- name:    link_candidates (temp, rewritten) — the officers' answers applied before scoring
-- grain:   one row per (record, Dukcapil person) pair still worth scoring
-- columns: rec_id, nik, rule_bits (as 03_candidates.sql; 0 for a pair no rule proposed)
-- Runs only when link_officer_pairs holds an answer (jkn.link.link_period). A pair answered
-- 'different' is dropped: the record's next best candidate may still link or go to review. A
-- record answered 'same' keeps that one candidate alone, added if blocking did not propose it
-- (scored like any pair, so its evidence shows how it compares; 05_officers.sql links it
-- whatever the score). Only the latest 'same' counts if ever two were stored.
create or replace temp table link_candidates as
with same as (
    select rec_id, nik
    from link_officer_pairs
    where answer = 'same' and applies
    qualify row_number() over (partition by rec_id order by decided_at desc, nik) = 1
),

different as (
    select rec_id, nik from link_officer_pairs where answer = 'different'
),

kept as (
    select c.*
    from link_candidates as c
    anti join same as s on s.rec_id = c.rec_id
    anti join different as d on d.rec_id = c.rec_id and d.nik = c.nik
),

judged as (
    select s.rec_id, s.nik, coalesce(c.rule_bits, 0) as rule_bits
    from same as s
    left join link_candidates as c on c.rec_id = s.rec_id and c.nik = s.nik
),

final as (
    select * from kept
    union all by name
    select * from judged
)

select * from final
