-- name:    uhc_summary (report)
-- grain:   one row per period × kabupaten/kota asked for ($regions: list of 'YYYY-MM-DD|code')
-- columns: period, region_code, region_name, population, registered, coverage_registered,
--          activity_of_population, coverage_reconciled, activity_reconciled, rule_id,
--          min_coverage, min_activity, meets_uhc, meets_uhc_reconciled, residents_to_enrol,
--          activations_needed, the bridge's seven categories, targets (list of structs:
--          target_id, target_coverage, gap, residents_to_target), double_funding_persons,
--          double_funding_idr
-- Reads the published marts only (what a BI tool sees).
with asked as (
    select
        cast(split_part(item, '|', 1) as date) as period,
        split_part(item, '|', 2) as region_code
    from (select unnest($regions) as item)
),

bridge as (
    pivot (
        select b.period, b.region_code, b.category, b."rows"
        from marts.coverage_bridge as b
        inner join asked using (period, region_code)
    ) on category in (
        -- the seven categories in their order, filled in by warehouse.report_sql
        /* categories of rules/bridge_categories.csv */
    ) using sum("rows")
),

targets as (
    select
        period,
        region_code,
        list(
            {
                'target_id': target_id,
                'target_coverage': target_coverage,
                'gap': gap,
                'residents_to_target': residents_to_target
            }
            order by target_coverage
        ) as targets
    from marts.uhc_targets
    group by period, region_code
),

final as (
    select
        u.period,
        u.region_code,
        u.region_name,
        u.population,
        u.registered,
        u.coverage_registered,
        u.activity_of_population,
        u.coverage_reconciled,
        u.activity_reconciled,
        u.rule_id,
        u.min_coverage,
        u.min_activity,
        u.meets_uhc,
        u.meets_uhc_reconciled,
        u.residents_to_enrol,
        u.activations_needed,
        b.* exclude (period, region_code),
        t.targets,
        coalesce(d.persons, 0) as double_funding_persons,
        coalesce(d.monthly_cost_idr, 0) as double_funding_idr
    from marts.uhc_status as u
    inner join asked as a using (period, region_code)
    left join bridge as b using (period, region_code)
    left join targets as t using (period, region_code)
    left join marts.double_funding as d using (period, region_code)
)

select * from final order by period
