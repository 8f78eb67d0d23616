-- name:    staging.quarantined_dinsos_pbi
-- grain:   one row per period × PBI-list record held in quarantine (records the
--          parser could split into fields)
-- columns: as staging.dinsos_pbi without flags, every one nullable: parsed by the
--          same code as loaded rows (schemas/), null where a field does not read; line joins
--          audit.quarantine (period, source, line), which keeps the reasons and the row as
--          received. SQL reads quarantined rows from here, never from audit.quarantine.record.
create schema if not exists staging;
create table if not exists staging.quarantined_dinsos_pbi (
    period        date not null,
    id_dtsen      varchar,
    nik           varchar,
    no_kk         varchar,
    nama          varchar,
    tgl_lahir     date,
    jenis_kelamin varchar,
    kode_wilayah  varchar,
    desil         tinyint,
    sumber_dana   varchar,
    line          bigint not null,
    file_sha256   varchar not null
);
