-- name:    forum_goals (report)
-- grain:   one row per kabupaten/kota (and province where budgeted) × goal for $period
-- columns: region_code, goal, goal_kind (rule, tier, target), goal_order, min_coverage,
--          min_activity, min_pemda_share, met, residents_to_enrol (the goal's enrolments as
--          PBI_APBD), activations_needed, pemda_enrolments_needed, premium_idr,
--          monthly_cost_idr, annual_cost_idr
-- Reads the published marts only (uhc_budget, uhc_status, uhc_tiers, uhc_targets). Goals
-- come in the order the levers report uses: the rule in force, the tiers from the lowest,
-- then the targets.
with goals as (
    select region_code, rule_id as goal, 'rule' as goal_kind, 1 as rank, 0.0 as bar,
        min_coverage, min_activity, null::double as min_pemda_share, meets_uhc as met,
        coalesce(activations_needed, 0) as activations_needed, 0 as pemda_enrolments_needed
    from marts.uhc_status
    where period = $period
    union all
    select region_code, tier, 'tier', 2, min_coverage + min_activity + coalesce(min_pemda_share, 0),
        min_coverage, min_activity, min_pemda_share, meets_tier, activations_needed,
        pemda_enrolments_needed
    from marts.uhc_tiers
    where period = $period
    union all
    select region_code, target_id, 'target', 3, target_coverage, target_coverage, null, null,
        gap <= 0, 0, 0
    from marts.uhc_targets
    where period = $period
),

final as (
    select
        b.region_code,
        b.goal,
        g.goal_kind,
        row_number() over (partition by b.region_code order by g.rank, g.bar, b.goal)
            as goal_order,
        g.min_coverage,
        g.min_activity,
        g.min_pemda_share,
        g.met,
        b.residents_to_enrol,
        g.activations_needed,
        g.pemda_enrolments_needed,
        b.premium_idr,
        b.monthly_cost_idr,
        b.annual_cost_idr
    from marts.uhc_budget as b
    inner join goals as g using (region_code, goal)
    where b.period = $period
)

select * from final order by region_code, goal_order
