-- name:    marts.coverage
-- grain:   one row per period × region (province, kabupaten/kota, kecamatan, desa)
-- columns: period, region_code (dotted Kemendagri), region_level, region_name, population,
--          registered, active_registered, coverage_registered, activity_of_population,
--          activity_of_registered, covered_residents, active_residents, coverage_reconciled,
--          activity_reconciled, uncovered_residents, population_snapshot,
--          subregions_with_data / subregions_in_list (regions one level down with data this
--          period, and in the Kemendagri list: a province built from part of its kab/kota
--          says so)
-- Figures as defined in DOMAIN.md; rates are fractions. Counts only: no personal data.
create schema if not exists marts;
create table if not exists marts.coverage (
    period                 date not null,
    region_code            varchar not null,
    region_level           varchar not null,
    region_name            varchar,
    population             bigint not null,
    registered             bigint not null,
    active_registered      bigint not null,
    coverage_registered    double,
    activity_of_population double,
    activity_of_registered double,
    covered_residents      bigint not null,
    active_residents       bigint not null,
    coverage_reconciled    double,
    activity_reconciled    double,
    uncovered_residents    bigint not null,
    population_snapshot    varchar not null
);
alter table marts.coverage add column if not exists subregions_with_data bigint;
alter table marts.coverage add column if not exists subregions_in_list bigint;
