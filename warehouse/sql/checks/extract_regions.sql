-- name:    extract_regions — the regions a period's marts must have a row for
-- grain:   one row per region (every level) holding a living resident in the period's loaded
--          Dukcapil extract, by the village code of the record, where Kemendagri lists the code
-- columns: region_code (dotted), region_level
-- Read by the "extract_regions" data-quality suite (jkn.quality) before the period is
-- published: a region of the extract missing from marts.coverage fails the run.
with villages as (
    select distinct kode_wilayah as region_digits
    from staging.dukcapil
    where period = $period and status = 'HIDUP' and kode_wilayah is not null
),

prefixes as (
    -- rules/region_levels.csv: the digits of the code that name each level (a village only
    -- by the whole code)
    select distinct left(v.region_digits, l.digits) as prefix, l.region_level
    from villages as v
    inner join ref.region_levels as l
        on length(v.region_digits) >= l.digits
        and (not l.whole_code or length(v.region_digits) = l.digits)
),

final as (
    select r.region_code, r.region_level
    from prefixes as p
    inner join ref.regions as r on r.region_level = p.region_level and r.region_digits = p.prefix
)

select * from final order by region_code
