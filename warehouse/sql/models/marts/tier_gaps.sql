-- name:    m_tier_gaps (build; not published): the award tiers measured on this month's figures
-- grain:   one row per kabupaten/kota and per province × tier rule (ref.uhc_tiers) that is in
--          force at the period, or, in a period with none in force, belongs to the next set of
--          tiers to come (the earliest valid_from after it: before 2026, the 2026 tiers), with
--          in_force and the rule's valid_from and tier_order beside marts.uhc_tiers' columns.
-- The one home of a tier's verdict and gaps: marts.uhc_tiers publishes the rows in force;
-- marts.uhc_budget costs them all (a tier still to come is the next goal a Pemda prepares for).
-- A tier is met on coverage (registered), activity (active_registered, of population) and,
-- where it sets one, the Pemda share (valid PBI_APBD memberships, m_coverage_pemda); Pemda
-- arrears are shown, they do not bar a tier. Gaps: the exact counts of macros/share_needed.sql,
-- so meets_tier ⇔ all three gaps are 0 (for a region with residents). Reads m_coverage_pemda;
-- warehouse.build runs it before marts.uhc_tiers.
-- columns: those of ddl/marts/uhc_tiers.sql, and in_force, valid_from, tier_order.
with tiers as (
    select
        *,
        in_force(valid_from, valid_to, $period) as in_force
    from ref.uhc_tiers
    where in_force(valid_from, valid_to, $period)
        -- before any tier is in force (before 2026), the first set to come: the goal a
        -- Pemda prepares for. Once tiers are in force they are the goals, and a tier's name
        -- stays one row per goal (a later revision is costed from the day it is in force)
        or (
            valid_from = (select min(valid_from) from ref.uhc_tiers where valid_from > $period)
            and not exists (
                select 1 from ref.uhc_tiers as f where in_force(f.valid_from, f.valid_to, $period)
            )
        )
),

regions as (
    select * from m_coverage_pemda
)

select
    c.period,
    c.region_code,
    c.region_level,
    c.region_name,
    t.tier,
    t.rule_id,
    t.min_coverage,
    t.min_activity,
    t.min_pemda_share,
    c.coverage_registered,
    c.activity_of_population,
    c.pemda_cards / nullif(c.population, 0) as pemda_share,
    c.pemda_arrears_cards,
    jkn_share_met(t.min_coverage, c.population, c.registered)
        and jkn_share_met(t.min_activity, c.population, c.active_registered)
        and jkn_share_met(t.min_pemda_share, c.population, c.pemda_cards) as meets_tier,
    jkn_share_shortfall(t.min_coverage, c.population, c.registered) as residents_to_enrol,
    jkn_share_shortfall(t.min_activity, c.population, c.active_registered) as activations_needed,
    -- Pratama sets no share: 0
    jkn_share_shortfall(t.min_pemda_share, c.population, c.pemda_cards)
        as pemda_enrolments_needed,
    t.in_force,
    t.valid_from,
    t.tier_order
from regions as c
cross join tiers as t
