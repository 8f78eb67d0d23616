-- name:    marts.pbi_eligibility_drift (build)
-- grain:   one row per kabupaten/kota and per kecamatan this period (m_lever_regions: every
--          one of marts.coverage at those levels, zero included, as takeover_candidates)
-- columns: see ddl/marts/pbi_eligibility_drift.sql. Persons holding a valid PBI_APBN
--          membership (rules/segments.csv: a PBI segment not the APBD's) whose first valid
--          Dinsos listing has a DESIL above the deciles PBI covers (rules/pbi_eligibility.csv:
--          6–10), placed by that card's BPJS KODE_WILAYAH (cards in two regions: once in each).
with eligibility as (
    select max_decile
    from ref.pbi_eligibility
    where in_force(valid_from, valid_to, $period)
),

regions as (
    select * from m_lever_regions
),

drifted as (
    select distinct l.region_level, l.region_code, b.person_key
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment and s.is_pbi and not s.is_apbd
    inner join int_dinsos_persons as d on d.person_key = b.person_key
    inner join eligibility as e on d.desil > e.max_decile
    inner join int_region_levels as l
        on l.region_digits = b.region_digits
        and l.region_level in (select region_level from regions)
    where not b.quarantined
),

counted as (
    select region_level, region_code, count(*) as persons
    from drifted
    group by all
),

final as (
    select
        $period as period,
        r.region_code,
        r.region_level,
        r.region_name,
        coalesce(c.persons, 0) as persons
    from regions as r
    left join counted as c on c.region_level = r.region_level and c.region_code = r.region_code
)

select * from final order by region_code
