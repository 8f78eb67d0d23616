-- name:    marts.takeover_candidates
-- grain:   one row per period × kabupaten/kota and per period × kecamatan
-- columns: period, region_code, region_level, region_name, persons (holding a valid inactive
--          PBPU or PPU_BU membership in arrears here — BULAN_TUNGGAKAN > 0, by BPJS's
--          KODE_WILAYAH — on the Dinsos list in deciles 1–5 and holding no active PBI
--          membership), arrears_months (those memberships' BULAN_TUNGGAKAN summed),
--          monthly_cost_idr (persons × the PBI premium in force: what taking them over as
--          PBI_APBD would cost the Pemda a month)
-- The persons are in the restricted file's lists.takeover_candidates.
create schema if not exists marts;
create table if not exists marts.takeover_candidates (
    period           date not null,
    region_code      varchar not null,
    region_level     varchar not null,
    region_name      varchar,
    persons          bigint not null,
    arrears_months   bigint not null,
    monthly_cost_idr bigint not null
);
