-- name:    lists.takeover_candidates (restricted file only)
-- grain:   one row per period × kab/kota × person who is a takeover candidate there: an
--          inactive PBPU or PPU_BU membership in arrears, on the Dinsos list in deciles 1–5, no
--          active PBI membership (its length is marts.takeover_candidates.persons)
-- columns: period, kabupaten_code, kecamatan_code, desa_code, desa_name (the village of the
--          person's first such card, as BPJS holds it), nik, nama (the list's), nokas,
--          segments (the person's inactive cards in arrears there), arrears_months (their
--          BULAN_TUNGGAKAN summed), desil (the listing's decile), monthly_cost_idr (the PBI
--          premium in force: what the Pemda would pay a month for the person as PBI_APBD)
create schema if not exists lists;
create table if not exists lists.takeover_candidates (
    period date not null, kabupaten_code varchar not null, kecamatan_code varchar,
    desa_code varchar, desa_name varchar, nik varchar, nama varchar,
    nokas varchar[] not null, segments varchar[] not null, arrears_months bigint not null,
    desil tinyint, monthly_cost_idr bigint not null
);
