-- name:    int_population (temp)
-- grain:   one row per resident (Dukcapil HIDUP, as delivered); the marts roll residents up
--          from their village code through int_region_levels
-- columns: line, nik_intact, region_digits (domicile), has_card (holds at least one valid
--          membership, anywhere; matched by NIK, which needs the resident's NIK intact even
--          where the Dukcapil record was quarantined for another reason), has_active_card.
--          Identity columns stay in int_dukcapil_rows (join on line).
create or replace temp table int_population as
with final as (
    select
        d.line,
        d.nik_intact,
        d.region_digits,
        c.person_key is not null as has_card,
        coalesce(c.has_active_card, false) as has_active_card
    from int_dukcapil_rows as d
    left join int_bpjs_persons as c on d.nik_intact and c.person_key = d.nik
    where d.status = 'HIDUP'
)

select * from final
