-- name:    int_population (temp)
-- grain:   one row per resident (Dukcapil HIDUP, as delivered) × region level of domicile
-- columns: line, quarantined, nik, region_level, region_code, region_name, has_card (holds at
--          least one valid membership, anywhere; matched by NIK, which needs the resident's
--          NIK intact even where the Dukcapil record was quarantined for another reason),
--          has_active_card, plus identity columns for the outreach list
create or replace temp table int_population as
with cards as (
    select person_key, bool_or(is_active) as has_active_card
    from int_bpjs_rows
    where not quarantined
    group by person_key
),

final as (
    select
        d.*,
        l.region_level,
        l.region_code,
        l.region_name,
        c.person_key is not null as has_card,
        coalesce(c.has_active_card, false) as has_active_card
    from int_dukcapil_rows as d
    inner join int_region_levels as l on l.region_digits = d.region_digits
    left join cards as c on d.nik_intact and c.person_key = d.nik
    where d.status = 'HIDUP'
)

select * from final
