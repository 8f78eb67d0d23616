-- name:    link_decisions (temp, rewritten) — the officers' 'same' answers decide
-- grain:   one row per record that had at least one candidate (as 05_decisions.sql)
-- columns: those of 05_decisions.sql, with decision 'link' for a record an officer said is
--          the same person as its (only, 03_officers.sql) candidate, whatever the score; and
--          officer: null where no answer bears on the record, else {linked (an officer's
--          'same' linked it), excluded_candidates (pairs answered 'different'), decided_at
--          (the latest answer), files (the answers' files, as delivered)}, which
--          intermediate.link_evidence keeps (decision 'officer_linked' when linked)
create or replace temp table link_decisions as
with same as (
    select rec_id, nik
    from link_officer_pairs
    where answer = 'same' and applies
    qualify row_number() over (partition by rec_id order by decided_at desc, nik) = 1
),

answered as (
    select
        rec_id,
        count(*) filter (where answer = 'different') as excluded_candidates,
        max(decided_at) as decided_at,
        list_sort(list(distinct file_name)) as files
    from link_officer_pairs
    where applies
    group by rec_id
),

final as (
    select
        d.* replace (case when s.nik is not null then 'link' else d.decision end as decision),
        case when a.rec_id is not null then {
            'linked': s.nik is not null,
            'excluded_candidates': a.excluded_candidates,
            'decided_at': a.decided_at,
            'files': a.files
        } end as officer
    from link_decisions as d
    left join same as s on s.rec_id = d.rec_id and s.nik = d.nik
    left join answered as a on a.rec_id = d.rec_id
)

select * from final
