-- name:    audit.quarantine
-- grain:   one row per period × source × received row that failed an error check
-- columns: period, source, line (in the received file), reasons (error checks failed, or
--          record_readable when the CSV parser could not split it), flags (warning checks
--          failed), record (the row as received, JSON of the contract's columns), file_sha256
-- Nothing received is lost: every row is in staging or here. Personal data: restricted file.
create schema if not exists audit;
create table if not exists audit.quarantine (
    period      date not null,
    source      varchar not null,
    line        bigint not null,
    reasons     varchar[] not null,
    flags       varchar[] not null,
    record      varchar not null,
    file_sha256 varchar not null
);
