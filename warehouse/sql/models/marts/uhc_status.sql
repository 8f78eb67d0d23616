-- name:    marts.uhc_status (build)
-- grain:   one row per kabupaten/kota and per province this period
-- columns: see ddl/marts/uhc_status.sql. The rule is the one in force at the period
--          (ref.uhc_rules, one row per rule version); a rule with no activity threshold has
--          min_activity NULL and meets_activity true. Verdicts and gaps compare counts with
--          the exact count a threshold needs (macros/share_needed.sql). UHC Prioritas: where
--          the rule in force sets prioritas_no_pemda_arrears (from 2025), meets_uhc and, when
--          true, no valid PBI_APBD membership in arrears (m_coverage_pemda); NULL under a rule
--          that defines no UHC Prioritas (before 2025).
with rule as (
    select *
    from ref.uhc_rules
    where in_force(valid_from, valid_to, $period)
),

coverage as (
    select * from m_coverage_pemda
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
        -- no rule in force: no verdict on coverage (min_coverage is never empty in a rule)
        r.min_coverage is not null
            and jkn_share_met(r.min_coverage, c.population, c.registered) as meets_coverage,
        jkn_share_met(r.min_activity, c.population, c.active_registered) as meets_activity,
        meets_coverage and meets_activity as meets_uhc,
        jkn_share_shortfall(r.min_coverage, c.population, c.registered) as residents_to_enrol,
        jkn_share_shortfall(r.min_activity, c.population, c.active_registered)
            as activations_needed,
        c.covered_residents,
        c.active_residents,
        c.coverage_reconciled,
        c.activity_reconciled,
        r.min_coverage is not null
            and jkn_share_met(r.min_coverage, c.population, c.covered_residents)
            and jkn_share_met(r.min_activity, c.population, c.active_residents)
            as meets_uhc_reconciled,
        jkn_share_shortfall(r.min_coverage, c.population, c.covered_residents)
            as residents_to_enrol_reconciled,
        jkn_share_shortfall(r.min_activity, c.population, c.active_residents)
            as activations_needed_reconciled,
        c.population_snapshot,
        c.subregions_with_data,
        c.subregions_in_list,
        c.pemda_arrears_cards,
        case
            when r.prioritas_no_pemda_arrears is not null
                then meets_uhc and (not r.prioritas_no_pemda_arrears or c.pemda_arrears_cards = 0)
        end as meets_uhc_prioritas
    from coverage as c
    left join rule as r on true
)

select * from final order by region_code
