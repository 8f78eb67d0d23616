-- name:    link_clusters (temp) — cluster: cards that name the same unknown person
-- grain:   one row per BPJS card left unlinked (no Dukcapil person) that shares its normalised
--          name, birth date and sex with at least one other such card
-- columns: line, person_key (the NIK the group's cards carry, when one does and it was not
--          refused — a person Dukcapil does not know is still their NIK, as a lone card of
--          theirs is; else 'card:' || the smallest NOKA of the group; neither depends on the
--          file's order, and jkn.resolve carries the key from month to month)
-- Two cards of one person who is not in Dukcapil are one person (a duplicate), not two.
create or replace temp table link_clusters as
with unlinked as (
    select
        r.line,
        s.noka,
        case when not r.nik_conflict then r.nik end as nik,
        r.name_key,
        r.dob,
        r.sex
    from link_records as r
    inner join staging.bpjs_membership as s on s.period = $period and s.line = r.line
    left join link_decisions as d on d.rec_id = r.rec_id
    where r.source = 'bpjs_membership'
      and coalesce(d.decision, 'none') <> 'link'
      and r.dob is not null and r.sex is not null and r.name_key <> ''
),

grouped as (
    select
        line,
        min(nik) over (partition by name_key, dob, sex) as first_nik,
        min(noka) over (partition by name_key, dob, sex) as first_noka,
        count(*) over (partition by name_key, dob, sex) as cards
    from unlinked
),

final as (
    select line, coalesce(first_nik, 'card:' || first_noka) as person_key
    from grouped
    where cards > 1
)

select * from final
