-- name:    forum_goals (report)
-- grain:   one row per kabupaten/kota × goal budgeted for $period (marts.uhc_budget): the
--          goals in force, then the next tiers still to come (before 2026, the 2026 tiers)
-- columns: region_code, goal, goal_kind (rule, tier, target), goal_order, in_force,
--          in_force_from, min_coverage, min_activity, min_pemda_share, met,
--          residents_to_enrol (the goal's enrolments as PBI_APBD: the largest of its gaps),
--          premium_idr, monthly_cost_idr, annual_cost_idr
-- Reads the published marts (uhc_budget, uhc_status, uhc_tiers, uhc_targets) and, for a tier
-- not yet in force (no marts.uhc_tiers row), its conditions from the rules:
-- tier_rules, warehouse/rules/uhc_tiers.csv as the report registers it. A tier still to come
-- is met when the budget needs no enrolment for it (its gaps are all 0). Goals come in the
-- order the levers report uses: the rule in force, the tiers from the lowest, the targets;
-- the tiers still to come last.
with goals as (
    select region_code, rule_id as goal, 'rule' as goal_kind, 1 as rank, 0.0 as bar,
        min_coverage, min_activity, null::double as min_pemda_share, meets_uhc as met,
        true as in_force
    from marts.uhc_status
    where period = $period
    union all
    select region_code, tier, 'tier', 2, jkn_goal_bar(min_coverage, min_activity, min_pemda_share),
        min_coverage, min_activity, min_pemda_share, meets_tier, true
    from marts.uhc_tiers
    where period = $period
    union all
    select region_code, target_id, 'target', 3, target_coverage, target_coverage, null, null,
        gap <= 0, true
    from marts.uhc_targets
    where period = $period
),

coming as (
    select b.region_code, b.goal, 'tier' as goal_kind, 4 as rank,
        jkn_goal_bar(r.min_coverage, r.min_activity, r.min_pemda_share) as bar,
        r.min_coverage, r.min_activity, r.min_pemda_share, b.residents_to_enrol = 0 as met,
        false as in_force
    from marts.uhc_budget as b
    -- a rules file whose tier no longer reads as the mart's leaves the conditions empty, the
    -- row and its cost stay
    left join tier_rules as r on r.tier = b.goal and r.valid_from = b.in_force_from
    where b.period = $period and not b.in_force
),

final as (
    select
        b.region_code,
        b.goal,
        g.goal_kind,
        row_number() over (partition by b.region_code order by g.rank, g.bar, b.goal)
            as goal_order,
        in_force,
        b.in_force_from,
        g.min_coverage,
        g.min_activity,
        g.min_pemda_share,
        g.met,
        b.residents_to_enrol,
        b.premium_idr,
        b.monthly_cost_idr,
        b.annual_cost_idr
    from marts.uhc_budget as b
    inner join (select * from goals union all by name select * from coming) as g
        using (region_code, goal, in_force)
    where b.period = $period
)

select * from final order by region_code, goal_order
