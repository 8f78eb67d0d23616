-- name:    staging.bpjs_membership
-- grain:   one row per period × BPJS card (NOKA) that passed validation
-- columns: period, noka, nik (null when the card carries none), no_kk, nama, tgl_lahir,
--          jenis_kelamin (L/P), hubungan_keluarga, segmen (current code; PBPU_PEMDA read as
--          PBI_APBD), kelas, status_peserta (AKTIF/NONAKTIF), ket_nonaktif, bulan_tunggakan,
--          kode_wilayah (10-digit village code, undotted), kode_faskes, tmt, line, flags,
--          file_sha256
-- Renamed and cast only; personal data: lives in the restricted file, never in the marts.
create schema if not exists staging;
create table if not exists staging.bpjs_membership (
    period            date not null,
    noka              varchar not null,
    nik               varchar,
    no_kk             varchar,
    nama              varchar not null,
    tgl_lahir         date not null,
    jenis_kelamin     varchar not null,
    hubungan_keluarga varchar,
    segmen            varchar not null,
    kelas             tinyint,
    status_peserta    varchar not null,
    ket_nonaktif      varchar,
    bulan_tunggakan   integer,
    kode_wilayah      varchar not null,
    kode_faskes       varchar,
    tmt               date,
    line              bigint not null,
    flags             varchar[] not null,
    file_sha256       varchar not null
);
