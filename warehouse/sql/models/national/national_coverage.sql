-- name:    marts.national_coverage (build)
-- grain:   one row per province of the run, and the national row
-- columns: see ddl/national/national_coverage.sql
-- Reads `province_coverage` (each province's marts.coverage row at province level for the
-- period), `crossed` (the exchange's counts per province) and ref.regions; the national row
-- is macros/national_region.sql.
with provinces as (
    select
        c.region_code,
        'province' as region_level,
        c.region_name,
        c.population,
        c.registered,
        c.active_registered,
        c.covered_residents,
        c.active_residents,
        c.uncovered_residents,
        coalesce(x.residents_carded_elsewhere, 0) as residents_carded_elsewhere,
        coalesce(x.uncovered_carded_elsewhere, 0) as uncovered_carded_elsewhere,
        c.subregions_with_data,
        c.subregions_in_list
    from province_coverage as c
    left join crossed as x on x.province = c.region_code
),

nation as (
    select
        sum(population) as population,
        sum(registered) as registered,
        sum(active_registered) as active_registered,
        sum(covered_residents) as covered_residents,
        sum(active_residents) as active_residents,
        sum(uncovered_residents) as uncovered_residents,
        sum(residents_carded_elsewhere) as residents_carded_elsewhere,
        sum(uncovered_carded_elsewhere) as uncovered_carded_elsewhere,
        count(*) as subregions_with_data,
        (select count(*) from ref.regions where region_level = 'province') as subregions_in_list
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
        region_code,
        region_level,
        region_name,
        population::bigint as population,
        registered::bigint as registered,
        active_registered::bigint as active_registered,
        covered_residents::bigint as covered_residents,
        active_residents::bigint as active_residents,
        uncovered_residents::bigint as uncovered_residents,
        unnest(coverage_rates(
            population, registered, active_registered, covered_residents, active_residents
        )),
        residents_carded_elsewhere::bigint as residents_carded_elsewhere,
        uncovered_carded_elsewhere::bigint as uncovered_carded_elsewhere,
        (covered_residents + uncovered_carded_elsewhere)::bigint as covered_residents_national,
        (covered_residents + uncovered_carded_elsewhere)
        / nullif(population, 0) as coverage_national,
        subregions_with_data::bigint as subregions_with_data,
        subregions_in_list::bigint as subregions_in_list
    from rows
)

select * from final order by region_level desc, region_code
