-- name:    marts.uhc_budget (build)
-- grain:   one row per kabupaten/kota × goal: in force this period, the UHC rule
--          (m_uhc_status), each coverage target (m_uhc_targets), each award tier; and the next
--          set of tiers still to come (before 2026, the 2026 tiers: in_force false) — the
--          tiers' gaps from models/marts/tier_gaps.sql, the rows marts.uhc_tiers publishes in force
-- columns: see ddl/marts/uhc_budget.sql. residents_to_enrol is the fewest residents the Pemda
--          would enrol as PBI_APBD for the region to reach the goal, other figures unchanged:
--          each enrolment adds one registered, active, PBI_APBD membership, so it is the
--          largest of the goal's gaps in those counts — a rule: coverage and activity; a
--          target: coverage; a tier: coverage, activity and the Pemda share (each gap read
--          from its one home: m_uhc_status, m_uhc_targets, m_tier_gaps). The takeover columns are the region's
--          marts.takeover_candidates row, the same on every goal.
with premium as (
    select premium_idr
    from ref.pbi_premiums
    where in_force(valid_from, valid_to, $period)
),

goals as (
    select
        m.region_code,
        rule_id as goal,
        'uhc_rule' as goal_kind,
        1 as goal_order,
        0 as tier_order,
        greatest(m.residents_to_enrol, m.activations_needed) as residents_to_enrol,
        true as in_force,
        r.valid_from as in_force_from
    from m_uhc_status as m
    inner join ref.uhc_rules as r using (rule_id)
    where m.region_level = 'kabupaten'
    union all
    select m.region_code, m.target_id, 'target', 2, 0, m.residents_to_target, true, r.valid_from
    from m_uhc_targets as m
    inner join ref.uhc_targets as r using (target_id)
    where m.region_level = 'kabupaten'
    union all
    select
        region_code,
        tier,
        'tier',
        3,
        tier_order,
        greatest(residents_to_enrol, activations_needed, pemda_enrolments_needed),
        in_force,
        valid_from
    from m_tier_gaps
    where region_level = 'kabupaten'
),

final as (
    select
        $period as period,
        c.region_code,
        c.region_level,
        c.region_name,
        g.goal,
        g.in_force,
        g.in_force_from,
        g.residents_to_enrol,
        p.premium_idr,
        g.residents_to_enrol * p.premium_idr as monthly_cost_idr,
        12 * g.residents_to_enrol * p.premium_idr as annual_cost_idr,
        t.persons as takeover_candidates,
        t.monthly_cost_idr as takeover_monthly_cost_idr,
        g.goal_order,
        g.tier_order
    from goals as g
    inner join m_coverage as c on c.region_level = 'kabupaten' and c.region_code = g.region_code
    cross join premium as p
    left join m_takeover_candidates as t
        on t.region_level = 'kabupaten' and t.region_code = g.region_code
)

select * exclude (goal_order, tier_order) from final
order by region_code, not in_force, goal_order, tier_order, goal
