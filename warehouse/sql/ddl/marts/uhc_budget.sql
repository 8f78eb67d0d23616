-- name:    marts.uhc_budget
-- grain:   one row per period × kabupaten/kota × goal: in force (the UHC rule, each coverage
--          target, each award tier) and the next set of tiers still to come (before 2026: the
--          2026 tiers)
-- columns: period, region_code, region_level, region_name, goal (a UHC rule id, a target id or
--          a tier), in_force (false: a tier not yet in force at the period, costed on the
--          period's figures), in_force_from (the day the goal came or comes into force: the
--          rule's valid_from), residents_to_enrol (the fewest
--          residents enrolled as PBI_APBD — each one registered, active and Pemda-paid — for
--          the region to reach the goal: the largest of its gaps), premium_idr (the PBI premium
--          in force), monthly_cost_idr (residents_to_enrol × premium_idr), annual_cost_idr
--          (monthly × 12), takeover_candidates, takeover_monthly_cost_idr (the kab/kota's
--          marts.takeover_candidates persons and monthly_cost_idr: the cheapest lever on
--          activity, the same on every goal)
create schema if not exists marts;
create table if not exists marts.uhc_budget (
    period                    date not null,
    region_code               varchar not null,
    region_level              varchar not null,
    region_name               varchar,
    goal                      varchar not null,
    in_force                  boolean not null default true, -- rows published before it: all in force
    in_force_from             date, -- NULL in rows published before the column (CHANGELOG)
    residents_to_enrol        bigint not null,
    premium_idr               bigint not null,
    monthly_cost_idr          bigint not null,
    annual_cost_idr           bigint not null,
    takeover_candidates       bigint not null,
    takeover_monthly_cost_idr bigint not null
);
