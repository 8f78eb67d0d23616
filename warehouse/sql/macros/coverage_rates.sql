-- name:    coverage_rates (temp macro; warehouse.build.load_reference defines it)
-- The rates of DOMAIN.md from a region's counts, as fractions (a zero denominator gives NULL):
-- one home for a province's marts.coverage and the national roll-up, which recomputes them
-- from summed counts. Returns a struct: `unnest(coverage_rates(...))` in a select list gives
-- the five columns.
create or replace temp macro coverage_rates(
    population, registered, active_registered, covered_residents, active_residents
) as {
    coverage_registered: registered / nullif(population, 0),
    activity_of_population: active_registered / nullif(population, 0),
    activity_of_registered: active_registered / nullif(registered, 0),
    coverage_reconciled: covered_residents / nullif(population, 0),
    activity_reconciled: active_residents / nullif(population, 0)
};
