-- name:    marts.coverage_by_group
-- grain:   one row per period × region (kabupaten/kota and kecamatan) × sex × age band: the
--          twelve groups of sex L/P × the six bands of rules/age_bands.csv always (zero
--          included), and a group with sex or age band `unknown` where a resident falls in it
-- columns: period, region_code, region_level, region_name, sex (L, P, unknown), age_band
--          (0-4, 5-14, 15-24, 25-44, 45-64, 65+, unknown: completed years at the period's last
--          day, from the Dukcapil birth date; rows in the bands' order, unknown last),
--          population, covered_residents, active_residents,
--          coverage_reconciled, activity_reconciled
-- The groups of a region add up to its marts.coverage row (population, covered_residents,
-- active_residents). Counts only: no personal data.
create schema if not exists marts;
create table if not exists marts.coverage_by_group (
    period              date not null,
    region_code         varchar not null,
    region_level        varchar not null,
    region_name         varchar,
    sex                 varchar not null,
    age_band            varchar not null,
    population          bigint not null,
    covered_residents   bigint not null,
    active_residents    bigint not null,
    coverage_reconciled double,
    activity_reconciled double
);
