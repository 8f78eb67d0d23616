-- name:    staging.dinsos_pbi
-- grain:   one row per period × PBI-list record that passed validation
-- columns: period, id_dtsen, nik, no_kk, nama, tgl_lahir, jenis_kelamin (L/P),
--          kode_wilayah (10-digit village code, undotted), desil (1–10),
--          sumber_dana (APBN/APBD), line, flags, file_sha256
-- Renamed and cast only; personal data: lives in the restricted file, never in the marts.
create schema if not exists staging;
create table if not exists staging.dinsos_pbi (
    period        date not null,
    id_dtsen      varchar,
    nik           varchar not null,
    no_kk         varchar,
    nama          varchar not null,
    tgl_lahir     date not null,
    jenis_kelamin varchar not null,
    kode_wilayah  varchar not null,
    desil         tinyint not null,
    sumber_dana   varchar not null,
    line          bigint not null,
    flags         varchar[] not null,
    file_sha256   varchar not null
);
