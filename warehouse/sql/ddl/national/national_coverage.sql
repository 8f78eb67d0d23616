-- name:    marts.national_coverage (national marts file)
-- grain:   one row per period × province, and one national row (region_code 'ID')
-- columns: period, region_code (province code, or ID), region_level (province / national),
--          region_name, population, registered, active_registered, covered_residents,
--          active_residents, uncovered_residents (each summed from the provinces'
--          marts.coverage province rows), coverage_registered, activity_of_population,
--          activity_of_registered, coverage_reconciled, activity_reconciled (recomputed from
--          the sums, never averaged), residents_carded_elsewhere (persons Dukcapil lists alive
--          in the province holding a valid card in another province), uncovered_carded_elsewhere
--          (of them, those with no valid card in their own province), covered_residents_national
--          (covered_residents + uncovered_carded_elsewhere), coverage_national (of population),
--          subregions_with_data / subregions_in_list (kab/kota of a province; provinces of the
--          nation)
-- Counts and rates only; published by jkn.national into the national marts file.
create schema if not exists marts;
create table if not exists marts.national_coverage (
    period                     date not null,
    region_code                varchar not null,
    region_level               varchar not null,
    region_name                varchar,
    population                 bigint not null,
    registered                 bigint not null,
    active_registered          bigint not null,
    covered_residents          bigint not null,
    active_residents           bigint not null,
    uncovered_residents        bigint not null,
    coverage_registered        double,
    activity_of_population     double,
    activity_of_registered     double,
    coverage_reconciled        double,
    activity_reconciled        double,
    residents_carded_elsewhere bigint not null,
    uncovered_carded_elsewhere bigint not null,
    covered_residents_national bigint not null,
    coverage_national          double,
    subregions_with_data       bigint,
    subregions_in_list         bigint
);
