-- name:    marts.published_files
-- grain:   one row per period published × source: the file its figures were built from
-- columns: period, source, file_name (as delivered, relative to the landing root:
--          2025-05/dukcapil.csv), sha256 (of the bytes received), bytes, received_at (when
--          the landing store took the file, UTC), rows_received, rows_loaded,
--          rows_quarantined (as marts.data_quality; records the parser could not split
--          count as received and quarantined, check record_readable)
-- Replaced with the period's other marts. No personal data. contracts/marts.md.
create schema if not exists marts;
create table if not exists marts.published_files (
    period           date not null,
    source           varchar not null,
    file_name        varchar not null,
    sha256           varchar not null,
    bytes            bigint not null,
    received_at      timestamptz not null,
    rows_received    bigint not null,
    rows_loaded      bigint not null,
    rows_quarantined bigint not null,
    check (rows_received = rows_loaded + rows_quarantined)
);
