-- name:    link_clusters (temp) — cluster: cards that name the same unknown person
-- grain:   one row per BPJS card left unlinked (no Dukcapil person) that shares its normalised
--          name, birth date and sex with at least one other such card
-- columns: line, person_key ('cluster:' || the smallest line of the group)
-- Two cards of one person who is not in Dukcapil are one person (a duplicate), not two.
create or replace temp table link_clusters as
with unlinked as (
    select r.line, r.name_key, r.dob, r.sex
    from link_records as r
    left join link_decisions as d on d.rec_id = r.rec_id
    where r.source = 'bpjs_membership'
      and coalesce(d.decision, 'none') <> 'link'
      and r.dob is not null and r.sex is not null and r.name_key <> ''
),

grouped as (
    select
        line,
        min(line) over (partition by name_key, dob, sex) as first_line,
        count(*) over (partition by name_key, dob, sex) as cards
    from unlinked
),

final as (
    select line, 'cluster:' || first_line as person_key
    from grouped
    where cards > 1
)

select * from final
