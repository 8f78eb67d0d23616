-- name:    marts.uhc_targets (build)
-- grain:   one row per kabupaten/kota and province × coverage target in force this period
-- columns: see ddl/marts/uhc_targets.sql (residents_to_target: macros/share_needed.sql, exact)
with targets as (
    select *
    from ref.uhc_targets
    where in_force(valid_from, valid_to, $period)
),

final as (
    select
        c.period,
        c.region_code,
        c.region_level,
        c.region_name,
        t.target_id,
        t.target_coverage,
        t.source as target_source,
        c.coverage_registered,
        t.target_coverage - c.coverage_registered as gap,
        jkn_share_shortfall(t.target_coverage, c.population, c.registered) as residents_to_target
    from m_coverage as c
    cross join targets as t
    where c.region_level in ('province', 'kabupaten')
)

select * from final order by region_code, target_id
