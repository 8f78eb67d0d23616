-- name:    marts.data_quality
-- grain:   one row per period × source × check (every check that ran, failing or not)
-- columns: period, source, check, severity (error: the row is quarantined; warning: the row
--          is flagged and loaded), rows (rows that failed the check), and per period × source
--          rows_received = rows_loaded + rows_quarantined (repeated on each of its rows)
-- Counts only: no personal data. contracts/marts.md.
create schema if not exists marts;
create table if not exists marts.data_quality (
    period           date not null,
    source           varchar not null,
    "check"          varchar not null,
    severity         varchar not null,
    "rows"           bigint not null,
    rows_received    bigint not null,
    rows_loaded      bigint not null,
    rows_quarantined bigint not null
);
