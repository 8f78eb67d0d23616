-- name:    marts.uhc_status (build)
-- grain:   one row per kabupaten/kota and per province this period
-- columns: see ddl/marts/uhc_status.sql. The rule is the one in force at the period
--          (ref.uhc_rules, one row per rule version); a rule with no activity threshold has
--          min_activity NULL and meets_activity true.
with rule as (
    select *
    from ref.uhc_rules
    where valid_from <= $period and (valid_to is null or valid_to >= $period)
),

coverage as (
    select * from m_coverage where region_level in ('province', 'kabupaten')
),

final as (
    select
        c.period,
        c.region_code,
        c.region_level,
        c.region_name,
        r.rule_id,
        r.source as rule_source,
        r.min_coverage,
        r.min_activity,
        r.activity_definition,
        c.population,
        c.registered,
        c.active_registered,
        c.coverage_registered,
        c.activity_of_population,
        coalesce(c.coverage_registered >= r.min_coverage, false) as meets_coverage,
        r.min_activity is null
            or coalesce(c.activity_of_population >= r.min_activity, false) as meets_activity,
        meets_coverage and meets_activity as meets_uhc,
        greatest(0, ceil(r.min_coverage * c.population) - c.registered)::bigint
            as residents_to_enrol,
        greatest(0, coalesce(ceil(r.min_activity * c.population), 0) - c.active_registered)::bigint
            as activations_needed,
        c.covered_residents,
        c.active_residents,
        c.coverage_reconciled,
        c.activity_reconciled,
        coalesce(c.coverage_reconciled >= r.min_coverage, false)
            and (r.min_activity is null or coalesce(c.activity_reconciled >= r.min_activity, false))
            as meets_uhc_reconciled,
        greatest(0, ceil(r.min_coverage * c.population) - c.covered_residents)::bigint
            as residents_to_enrol_reconciled,
        greatest(0, coalesce(ceil(r.min_activity * c.population), 0) - c.active_residents)::bigint
            as activations_needed_reconciled,
        c.population_snapshot,
        c.subregions_with_data,
        c.subregions_in_list
    from coverage as c
    left join rule as r on true
)

select * from final order by region_code
