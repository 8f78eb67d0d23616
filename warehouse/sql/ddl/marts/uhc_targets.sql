-- name:    marts.uhc_targets
-- grain:   one row per period × kabupaten/kota (and province) × coverage target in force
-- columns: period, region_code, region_level, region_name, target_id, target_coverage,
--          target_source, coverage_registered, gap (target_coverage − coverage_registered,
--          a fraction; ≤ 0 means reached), residents_to_target
--          (max(0, ceil(target_coverage × population) − registered))
-- A target is reported as a gap; it never decides UHC status.
create schema if not exists marts;
create table if not exists marts.uhc_targets (
    period              date not null,
    region_code         varchar not null,
    region_level        varchar not null,
    region_name         varchar,
    target_id           varchar not null,
    target_coverage     double not null,
    target_source       varchar,
    coverage_registered double,
    gap                 double,
    residents_to_target bigint
);
