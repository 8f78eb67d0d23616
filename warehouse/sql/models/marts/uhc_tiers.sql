-- name:    marts.uhc_tiers (build)
-- grain:   one row per kabupaten/kota and per province × tier rule in force this period
--          (rules/uhc_tiers.csv; no rows in a period without one: before 2026)
-- columns: see ddl/marts/uhc_tiers.sql. A tier is met on coverage (registered), activity
--          (active_registered, of population) and, where it sets one, the Pemda share (valid
--          PBI_APBD memberships, int_pemda_cards); Pemda arrears are shown, they do not bar a
--          tier. Verdicts and gaps: the exact counts of macros/share_needed.sql, so
--          meets_tier ⇔ all three gaps are 0 (for a region with residents).
with tiers as (
    select *
    from ref.uhc_tiers
    where in_force(valid_from, valid_to, $period)
),

regions as (
    select
        c.*,
        coalesce(p.pemda_cards, 0) as pemda_cards,
        coalesce(p.pemda_arrears_cards, 0) as pemda_arrears_cards
    from m_coverage as c
    left join int_pemda_cards as p
        on p.region_level = c.region_level and p.region_code = c.region_code
    where c.region_level in ('province', 'kabupaten')
),

final as (
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
        jkn_share_shortfall(t.min_activity, c.population, c.active_registered)
            as activations_needed,
        -- Pratama sets no share: 0
        jkn_share_shortfall(t.min_pemda_share, c.population, c.pemda_cards)
            as pemda_enrolments_needed,
        t.tier_order
    from regions as c
    cross join tiers as t
)

select * exclude (tier_order) from final order by region_code, tier_order
