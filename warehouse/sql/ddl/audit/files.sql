-- name:    audit.files
-- grain:   one row per period × source: the file the last run read, or why it failed
-- columns: period, source, file_name, sha256, size_bytes, received_at, receipt (new,
--          unchanged, redelivered, stored-only), encoding, rows_received, rows_loaded,
--          rows_quarantined, outcome (loaded / failed), failure_check, failure_message,
--          run_at, code_version, rows_flagged, delivered (see below)
create schema if not exists audit;
create table if not exists audit.files (
    period           date not null,
    source           varchar not null,
    file_name        varchar,
    sha256           varchar,
    size_bytes       bigint,
    received_at      timestamptz,
    receipt          varchar,
    encoding         varchar,
    rows_received    bigint,
    rows_loaded      bigint,
    rows_quarantined bigint,
    outcome          varchar not null,
    failure_check    varchar,
    failure_message  varchar,
    run_at           timestamptz not null
);
-- code_version: jkn.version.code_fingerprint() of the run that validated the file; a rerun
-- with the same file and code reuses the result instead of validating again
alter table audit.files add column if not exists code_version varchar;
alter table audit.files add column if not exists rows_flagged bigint;
-- delivered: the file as delivered, relative to the landing root (2025-05/dukcapil.csv), as
-- messages and marts.published_files name it (file_name is its last part)
alter table audit.files add column if not exists delivered varchar;
