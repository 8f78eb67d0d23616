-- name:    marts.pbi_eligibility_drift
-- grain:   one row per period × kabupaten/kota and per period × kecamatan
-- columns: period, region_code, region_level, region_name, persons (holding a valid PBI_APBN
--          membership here, by BPJS's KODE_WILAYAH, whose Dinsos listing puts them in decile
--          6–10: for Dinas Sosial to review)
create schema if not exists marts;
create table if not exists marts.pbi_eligibility_drift (
    period       date not null,
    region_code  varchar not null,
    region_level varchar not null,
    region_name  varchar,
    persons      bigint not null
);
