-- name:    jkn_share_needed, jkn_share_shortfall, jkn_share_met (temp macros;
--          warehouse.build.load_reference defines them with the reference tables)
-- The one home of "how many are needed to reach a share of the population": a rule's
-- threshold (a DOUBLE read from warehouse/rules/*.csv) is taken to its 6 decimals as a DECIMAL
-- before it multiplies the population, so the ceiling is exact: ceil(0.98 × 12050) = 11809, and
-- ceil(0.07 × 100) = 7 where the binary product (7.000000000000001) would give 8. Thresholds in
-- the rules files are written with at most 6 decimals.
-- jkn_share_needed(share, population): ceil(share × population), a BIGINT (NULL share: NULL).
-- jkn_share_shortfall(share, population, have): max(0, needed − have); 0 when the rule sets no
--   such threshold (NULL share).
-- jkn_share_met(share, population, have): have ≥ needed, on a population of at least one
--   (a region with no residents meets no share); true when the rule sets no such threshold.
--   The same verdict as have / population ≥ share in exact arithmetic, and always in step
--   with the shortfall (met ⇔ shortfall 0, for a region with residents).
create or replace temp macro jkn_share_needed(share, population) as
    ceil(share::decimal(18, 6) * population::bigint)::bigint;
create or replace temp macro jkn_share_shortfall(share, population, have) as
    coalesce(greatest(0, jkn_share_needed(share, population) - have), 0)::bigint;
create or replace temp macro jkn_share_met(share, population, have) as
    share is null or coalesce(population > 0 and have >= jkn_share_needed(share, population), false);
