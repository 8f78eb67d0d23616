-- name:    forum_regions (report: the monthly forum report's pages)
-- grain:   one row per kabupaten/kota and province published for $period
-- columns: period, region_code, region_level, region_name, population, registered,
--          active_registered, coverage_registered, activity_of_population, coverage_reconciled,
--          activity_reconciled, covered_residents, active_residents, uncovered_residents,
--          rule_id, min_coverage, min_activity, meets_coverage, meets_activity, meets_uhc,
--          meets_uhc_prioritas, pemda_arrears_cards, residents_to_enrol, activations_needed,
--          meets_uhc_reconciled, subregions_with_data, subregions_in_list, tier_met (the
--          highest 2026 tier met; null when none or none in force), tiers_in_force,
--          double_funding_persons, double_funding_idr, takeover_persons,
--          takeover_arrears_months, takeover_idr, eligibility_drift_persons
-- Reads the published marts only (uhc_status, coverage, uhc_tiers, double_funding,
-- takeover_candidates, pbi_eligibility_drift).
with tiers as (
    select
        region_code,
        arg_max(tier, jkn_goal_bar(min_coverage, min_activity, min_pemda_share))
            filter (where meets_tier) as tier_met,
        count(*) as tiers_in_force
    from marts.uhc_tiers
    where period = $period
    group by region_code
),

final as (
    select
        u.period,
        u.region_code,
        u.region_level,
        u.region_name,
        u.population,
        u.registered,
        u.active_registered,
        u.coverage_registered,
        u.activity_of_population,
        u.coverage_reconciled,
        u.activity_reconciled,
        u.covered_residents,
        u.active_residents,
        c.uncovered_residents,
        u.rule_id,
        u.min_coverage,
        u.min_activity,
        u.meets_coverage,
        u.meets_activity,
        u.meets_uhc,
        u.meets_uhc_prioritas,
        u.pemda_arrears_cards,
        u.residents_to_enrol,
        u.activations_needed,
        u.meets_uhc_reconciled,
        u.subregions_with_data,
        u.subregions_in_list,
        t.tier_met,
        coalesce(t.tiers_in_force, 0) as tiers_in_force,
        coalesce(d.persons, 0) as double_funding_persons,
        coalesce(d.monthly_cost_idr, 0) as double_funding_idr,
        k.persons as takeover_persons,
        k.arrears_months as takeover_arrears_months,
        k.monthly_cost_idr as takeover_idr,
        e.persons as eligibility_drift_persons
    from marts.uhc_status as u
    inner join marts.coverage as c using (period, region_code)
    left join tiers as t using (region_code)
    left join marts.double_funding as d using (period, region_code)
    left join marts.takeover_candidates as k using (period, region_code)
    left join marts.pbi_eligibility_drift as e using (period, region_code)
    where u.period = $period and u.region_level in ('province', 'kabupaten')
)

select * from final order by region_code
