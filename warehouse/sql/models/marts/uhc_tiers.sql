-- name:    marts.uhc_tiers (build)
-- grain:   one row per kabupaten/kota and per province × tier rule in force this period
--          (rules/uhc_tiers.csv; no rows in a period without one: before 2026)
-- columns: see ddl/marts/uhc_tiers.sql: the rows of models/marts/tier_gaps.sql in force (the tiers'
--          verdicts and gaps have that one home; tiers still to come are costed by
--          marts.uhc_budget only).
select * exclude (in_force, valid_from, tier_order)
from m_tier_gaps
where in_force
order by region_code, tier_order
