-- name:    marts.cross_province (build)
-- grain:   one row per province of the run, and the national row
-- columns: see ddl/national/cross_province.sql
-- Reads `province_coverage` (which provinces, their names), `province_double_funding` (each
-- province's marts.double_funding row at province level, if it has one), `crossed` (the
-- exchange's counts per province), `nation_crossed` (the persons counted once nationally) and
-- ref.pbi_premiums; the national row is macros/national_region.sql.
with premium as (
    select premium_idr
    from ref.pbi_premiums
    where in_force(valid_from, valid_to, $period)
),

provinces as (
    select
        c.region_code,
        'province' as region_level,
        c.region_name,
        coalesce(x.carded_elsewhere_too, 0) as persons_carded_elsewhere_too,
        coalesce(x.residents_in_several, 0) as residents_in_several_provinces,
        coalesce(d.persons, 0) as double_funding_persons,
        coalesce(x.cross_province_double_funding, 0) as cross_province_double_funding
    from province_coverage as c
    left join crossed as x on x.province = c.region_code
    left join province_double_funding as d on d.region_code = c.region_code
),

nation as (
    select
        (select carded_in_several from nation_crossed) as persons_carded_elsewhere_too,
        (select resident_in_several from nation_crossed) as residents_in_several_provinces,
        sum(double_funding_persons) as double_funding_persons,
        sum(cross_province_double_funding) as cross_province_double_funding
    from provinces
),

rows as (
    select * from provinces
    union all by name
    select * from national_region() cross join nation
),

final as (
    select
        $period as period,
        r.region_code,
        r.region_level,
        r.region_name,
        r.persons_carded_elsewhere_too::bigint as persons_carded_elsewhere_too,
        r.residents_in_several_provinces::bigint as residents_in_several_provinces,
        r.double_funding_persons::bigint as double_funding_persons,
        r.cross_province_double_funding::bigint as cross_province_double_funding,
        p.premium_idr,
        (r.double_funding_persons * p.premium_idr)::bigint as double_funding_cost_idr,
        (r.cross_province_double_funding * p.premium_idr)::bigint
        as cross_province_double_funding_cost_idr
    from rows as r
    cross join premium as p
)

select * from final order by region_level desc, region_code
