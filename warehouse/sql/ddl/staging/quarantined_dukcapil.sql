-- name:    staging.quarantined_dukcapil
-- grain:   one row per period × Dukcapil record held in quarantine (records the
--          parser could split into fields)
-- columns: as staging.dukcapil without flags, every one nullable: parsed by the
--          same code as loaded rows (schemas/), null where a field does not read; line joins
--          audit.quarantine (period, source, line), which keeps the reasons and the row as
--          received. SQL reads quarantined rows from here, never from audit.quarantine.record.
create schema if not exists staging;
create table if not exists staging.quarantined_dukcapil (
    period        date not null,
    nik           varchar,
    no_kk         varchar,
    nama          varchar,
    jenis_kelamin varchar,
    tmpt_lahir    varchar,
    tgl_lahir     date,
    kode_wilayah  varchar,
    status        varchar,
    tgl_status    date,
    line          bigint not null,
    file_sha256   varchar not null
);
