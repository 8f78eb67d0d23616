-- name:    int_bpjs_persons (temp)
-- grain:   one row per person holding at least one valid (loaded) BPJS row this period
-- columns: person_key, cards (valid rows held), has_active_card, has_pbi_card,
--          has_active_pbi_card (rules/segments.csv: a PBI segment)
-- What the bridge, the population and the PBI reconciliation ask of a person's cards,
-- counted once.
create or replace temp table int_bpjs_persons as
with final as (
    select
        b.person_key,
        count(*) as cards,
        bool_or(b.is_active) as has_active_card,
        coalesce(bool_or(s.is_pbi), false) as has_pbi_card,
        coalesce(bool_or(s.is_pbi and b.is_active), false) as has_active_pbi_card
    from int_bpjs_rows as b
    left join ref.segments as s on s.segment = b.segment
    where not b.quarantined
    group by b.person_key
)

select * from final
