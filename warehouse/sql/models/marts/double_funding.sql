-- name:    marts.double_funding (build)
-- grain:   one row per region with a valid PBI_APBD card this period
-- columns: see ddl/marts/double_funding.sql
with premium as (
    select premium_idr
    from ref.pbi_premiums
    where in_force(valid_from, valid_to, $period)
),

apbd_regions as (
    select distinct b.region_level, b.region_code, b.region_name
    from int_bpjs_bridge as b
    inner join ref.segments as s on s.segment = b.segment and s.is_apbd
    where not b.quarantined
),

doubles as (
    select region_level, region_code, count(distinct person_key) as persons
    from int_double_funding
    group by all
),

final as (
    select
        $period as period,
        r.region_code,
        r.region_level,
        r.region_name,
        coalesce(d.persons, 0) as persons,
        p.premium_idr,
        coalesce(d.persons, 0) * p.premium_idr as monthly_cost_idr
    from apbd_regions as r
    cross join premium as p
    left join doubles as d
        on d.region_level = r.region_level and d.region_code = r.region_code
)

select * from final order by region_code
