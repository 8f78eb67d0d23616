-- name:    marts.activity_by_segment
-- grain:   one row per period × region × segment (segments present in the region)
-- columns: period, region_code, region_level, region_name, segment (current code; UNKNOWN for
--          codes not in the list), registered, active, inactive, activity_of_registered,
--          inactive_arrears (MENUNGGAK), inactive_pbi_deactivated (PBI_DINONAKTIFKAN),
--          inactive_other (every other or no reason)
-- Counted like `registered`: every row as delivered, valid or not.
create schema if not exists marts;
create table if not exists marts.activity_by_segment (
    period                   date not null,
    region_code              varchar not null,
    region_level             varchar not null,
    region_name              varchar,
    segment                  varchar not null,
    registered               bigint not null,
    active                   bigint not null,
    inactive                 bigint not null,
    activity_of_registered   double,
    inactive_arrears         bigint not null,
    inactive_pbi_deactivated bigint not null,
    inactive_other           bigint not null
);
