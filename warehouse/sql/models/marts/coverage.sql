-- name:    marts.coverage (build)
-- grain:   one row per region (every level) with registered rows or residents this period
-- columns: see ddl/marts/coverage.sql
with registered as (
    select
        region_level,
        region_code,
        any_value(region_name) as region_name,
        sum("rows")::bigint as registered,
        coalesce(sum("rows") filter (where is_active), 0)::bigint as active_registered
    from int_bpjs_bridge
    group by region_level, region_code
),

villages as (
    -- residents counted once per village code, then rolled up
    select
        region_digits,
        count(*) as population,
        count(*) filter (where has_card) as covered_residents,
        count(*) filter (where has_active_card) as active_residents
    from int_population
    group by region_digits
),

population as (
    select
        l.region_level,
        l.region_code,
        any_value(l.region_name) as region_name,
        sum(v.population)::bigint as population,
        sum(v.covered_residents)::bigint as covered_residents,
        sum(v.active_residents)::bigint as active_residents
    from villages as v
    inner join int_region_levels as l on l.region_digits = v.region_digits
    group by l.region_level, l.region_code
),

joined as (
    select
        coalesce(p.region_code, r.region_code) as region_code,
        coalesce(p.region_level, r.region_level) as region_level,
        coalesce(p.region_name, r.region_name) as region_name,
        coalesce(p.population, 0) as population,
        coalesce(r.registered, 0) as registered,
        coalesce(r.active_registered, 0) as active_registered,
        coalesce(p.covered_residents, 0) as covered_residents,
        coalesce(p.active_residents, 0) as active_residents
    from population as p
    full outer join registered as r
        on r.region_level = p.region_level and r.region_code = p.region_code
),

subregions as (
    -- how complete the delivery is under each region: a province row built from two of its
    -- ten kab/kota says so
    select r.parent_code, count(*) as with_data
    from joined as j
    inner join ref.regions as r on r.region_code = j.region_code
    group by r.parent_code
),

in_list as (
    select parent_code, count(*) as listed from ref.regions group by parent_code
),

final as (
    select
        $period as period,
        region_code,
        region_level,
        region_name,
        population,
        registered,
        active_registered,
        covered_residents,
        active_residents,
        unnest(coverage_rates(
            population, registered, active_registered, covered_residents, active_residents
        )),
        population - covered_residents as uncovered_residents,
        $snapshot as population_snapshot,
        coalesce(s.with_data, 0) as subregions_with_data,
        coalesce(l.listed, 0) as subregions_in_list
    from joined as j
    left join subregions as s on s.parent_code = j.region_code
    left join in_list as l on l.parent_code = j.region_code
)

select * from final order by region_code
