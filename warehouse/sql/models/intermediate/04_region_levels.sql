-- name:    int_region_levels (temp)
-- grain:   one row per distinct village code seen this period × administrative level at which
--          it can be placed (a level is kept only where the code's prefix is in the
--          Kemendagri list: an unknown village still counts for its kecamatan and above)
-- columns: region_digits, region_level, region_code (dotted), region_name
create or replace temp table int_region_levels as
with seen as (
    select distinct region_digits from int_bpjs_rows where region_digits is not null
    union
    select distinct region_digits from int_dukcapil_rows where region_digits is not null
    union
    select distinct region_digits from int_dinsos_persons where region_digits is not null
),

prefixes as (
    select region_digits, 'province' as region_level, left(region_digits, 2) as prefix from seen
    union all
    select region_digits, 'kabupaten', left(region_digits, 4) from seen
    where length(region_digits) >= 4
    union all
    select region_digits, 'kecamatan', left(region_digits, 6) from seen
    where length(region_digits) >= 6
    union all
    select region_digits, 'desa', region_digits from seen
    where length(region_digits) = 10
),

final as (
    select p.region_digits, p.region_level, r.region_code, r.region_name
    from prefixes as p
    inner join ref.regions as r
        on r.region_level = p.region_level and r.region_digits = p.prefix
)

select * from final
