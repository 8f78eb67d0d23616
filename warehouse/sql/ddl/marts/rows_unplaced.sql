-- name:    marts.rows_unplaced
-- grain:   one row per period × source × reason (only where rows were left unplaced)
-- columns: period, source, reason (region_code_unreadable, record_unreadable), rows
-- Rows received that no region's figures count, so that every row received is accounted for.
create schema if not exists marts;
create table if not exists marts.rows_unplaced (
    period date not null,
    source varchar not null,
    reason varchar not null,
    "rows" bigint not null
);
