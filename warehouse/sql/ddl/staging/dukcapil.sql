-- name:    staging.dukcapil
-- grain:   one row per period × Dukcapil record that passed validation (unique NIK)
-- columns: period, nik, no_kk, nama, jenis_kelamin (L/P), tmpt_lahir, tgl_lahir,
--          kode_wilayah (10-digit village code, undotted), status (HIDUP/MATI/PINDAH),
--          tgl_status, line (line in the received file), flags (warning checks failed),
--          file_sha256 (the exact bytes the row came from)
-- Renamed and cast only; personal data: lives in the restricted file, never in the marts.
create schema if not exists staging;
create table if not exists staging.dukcapil (
    period        date not null,
    nik           varchar not null,
    no_kk         varchar,
    nama          varchar not null,
    jenis_kelamin varchar not null,
    tmpt_lahir    varchar,
    tgl_lahir     date not null,
    kode_wilayah  varchar not null,
    status        varchar not null,
    tgl_status    date,
    line          bigint not null,
    flags         varchar[] not null,
    file_sha256   varchar not null
);
