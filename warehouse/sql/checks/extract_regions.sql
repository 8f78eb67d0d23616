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
    select left(region_digits, 2) as prefix, 'province' as region_level from villages
    union
    select left(region_digits, 4), 'kabupaten' from villages where length(region_digits) >= 4
    union
    select left(region_digits, 6), 'kecamatan' from villages where length(region_digits) >= 6
    union
    select region_digits, 'desa' from villages where length(region_digits) = 10
),

final as (
    select r.region_code, r.region_level
    from prefixes as p
    inner join ref.regions as r on r.region_level = p.region_level and r.region_digits = p.prefix
)

select * from final order by region_code
