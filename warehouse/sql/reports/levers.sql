-- name:    levers (report)
-- grain:   one row per period × kabupaten/kota asked for ($regions: list of 'YYYY-MM-DD|code')
-- columns: period, region_code, region_name, verdict_rule (the UHC rule in force), meets_uhc,
--          meets_uhc_prioritas, pemda_arrears_cards, tier_met (the highest 2026 tier met, null
--          when none or before 2026), next_goal (the first unmet goal in force: the UHC
--          rule, else the lowest tier, else the nearest target; null when all are met), coverage_gap, activity_gap, pemda_gap (its
--          gaps, as counts), premium_idr, uncovered_residents, inactive_registered,
--          takeover_candidates, and the three paths to it, each with the Pemda's cost a month:
--          enrol_residents / enrol_idr (enrol residents as PBI_APBD: each adds a registered,
--          active, Pemda-paid membership), takeover_members + takeover_enrol / takeover_idr
--          (take over members in arrears first — each raises activity and the Pemda share, not
--          coverage — then enrol what is still short), reactivate_members + reactivate_enrol /
--          reactivate_idr (members pay their arrears: no premium for the Pemda; then enrol for
--          coverage and the Pemda share)
-- Reads the published marts only (uhc_status, uhc_targets, uhc_tiers, uhc_budget,
-- takeover_candidates, coverage).
with asked as (
    select
        cast(split_part(item, '|', 1) as date) as period,
        split_part(item, '|', 2) as region_code
    from (select unnest($regions) as item)
),

gaps as (
    -- each goal's own gaps (one home each: the marts that judge it), and which comes first:
    -- the UHC rule (it decides the status), then the tiers from the lowest, then the targets
    select period, region_code, rule_id as goal, residents_to_enrol as coverage_gap,
        coalesce(activations_needed, 0) as activity_gap, 0 as pemda_gap, 1 as rank, 0.0 as bar
    from marts.uhc_status
    union all
    select period, region_code, target_id, residents_to_target, 0, 0, 3, target_coverage
    from marts.uhc_targets
    union all
    select period, region_code, tier, residents_to_enrol, activations_needed,
        pemda_enrolments_needed, 2, jkn_goal_bar(min_coverage, min_activity, min_pemda_share)
    from marts.uhc_tiers
),

next_goal as (
    select b.period, b.region_code, b.goal, b.residents_to_enrol, b.premium_idr, g.coverage_gap,
        g.activity_gap, g.pemda_gap, b.takeover_candidates
    from marts.uhc_budget as b
    inner join asked using (period, region_code)
    inner join gaps as g using (period, region_code, goal)
    where b.in_force and b.residents_to_enrol > 0
    qualify row_number() over (
        partition by b.period, b.region_code order by g.rank, g.bar, b.goal
    ) = 1
),

tier_met as (
    select
        period,
        region_code,
        arg_max(tier, jkn_goal_bar(min_coverage, min_activity, min_pemda_share)) as tier_met
    from marts.uhc_tiers
    where meets_tier and region_level = 'kabupaten'
    group by period, region_code
),

paths as (
    select
        *,
        least(coalesce(takeover_candidates, 0), greatest(activity_gap, pemda_gap))
            as takeover_members
    from next_goal
),

final as (
    select
        u.period,
        u.region_code,
        u.region_name,
        u.rule_id as verdict_rule,
        u.meets_uhc,
        u.meets_uhc_prioritas,
        u.pemda_arrears_cards,
        t.tier_met,
        p.goal as next_goal,
        p.coverage_gap,
        p.activity_gap,
        p.pemda_gap,
        p.premium_idr,
        c.uncovered_residents,
        c.registered - c.active_registered as inactive_registered,
        coalesce(p.takeover_candidates, 0) as takeover_candidates,
        p.residents_to_enrol as enrol_residents,
        p.residents_to_enrol * p.premium_idr as enrol_idr,
        p.takeover_members,
        greatest(
            p.coverage_gap, p.activity_gap - p.takeover_members, p.pemda_gap - p.takeover_members
        ) as takeover_enrol,
        (p.takeover_members + greatest(
            p.coverage_gap, p.activity_gap - p.takeover_members, p.pemda_gap - p.takeover_members
        )) * p.premium_idr as takeover_idr,
        least(p.activity_gap, c.registered - c.active_registered) as reactivate_members,
        greatest(
            p.coverage_gap,
            p.pemda_gap,
            p.activity_gap - least(p.activity_gap, c.registered - c.active_registered)
        ) as reactivate_enrol,
        greatest(
            p.coverage_gap,
            p.pemda_gap,
            p.activity_gap - least(p.activity_gap, c.registered - c.active_registered)
        ) * p.premium_idr as reactivate_idr
    from marts.uhc_status as u
    inner join asked as a using (period, region_code)
    inner join marts.coverage as c using (period, region_code)
    left join paths as p using (period, region_code)
    left join tier_met as t using (period, region_code)
)

select * from final order by period
