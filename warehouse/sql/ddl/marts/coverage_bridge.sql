-- name:    marts.coverage_bridge
-- grain:   one row per period × region × category (all seven categories, zero included)
-- columns: period, region_code, region_level, region_name, category (quarantined, duplicate,
--          deceased, moved_out, domiciled_elsewhere, not_in_population, resident),
--          category_order (1–7, DOMAIN.md's order), rows
-- For every period and region the rows of all categories add up to registered.
create schema if not exists marts;
create table if not exists marts.coverage_bridge (
    period         date not null,
    region_code    varchar not null,
    region_level   varchar not null,
    region_name    varchar,
    category       varchar not null,
    category_order tinyint not null,
    "rows"         bigint not null
);
