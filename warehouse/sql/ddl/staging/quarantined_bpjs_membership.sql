-- name:    staging.quarantined_bpjs_membership
-- grain:   one row per period × BPJS card row held in quarantine (records the
--          parser could split into fields)
-- columns: as staging.bpjs_membership without flags, every one nullable: parsed by the
--          same code as loaded rows (schemas/), null where a field does not read; line joins
--          audit.quarantine (period, source, line), which keeps the reasons and the row as
--          received. SQL reads quarantined rows from here, never from audit.quarantine.record.
create schema if not exists staging;
create table if not exists staging.quarantined_bpjs_membership (
    period            date not null,
    noka              varchar,
    nik               varchar,
    no_kk             varchar,
    nama              varchar,
    tgl_lahir         date,
    jenis_kelamin     varchar,
    hubungan_keluarga varchar,
    segmen            varchar,
    kelas             tinyint,
    status_peserta    varchar,
    ket_nonaktif      varchar,
    bulan_tunggakan   integer,
    kode_wilayah      varchar,
    kode_faskes       varchar,
    tmt               date,
    line              bigint not null,
    file_sha256       varchar not null
);
