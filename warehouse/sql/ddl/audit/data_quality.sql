-- name:    audit.data_quality
-- grain:   one row per period × source × check, as validated (published to
--          marts.data_quality together with the period's other marts)
-- columns: as marts.data_quality
create schema if not exists audit;
create table if not exists audit.data_quality (
    period           date not null,
    source           varchar not null,
    "check"          varchar not null,
    severity         varchar not null,
    "rows"           bigint not null,
    rows_received    bigint not null,
    rows_loaded      bigint not null,
    rows_quarantined bigint not null
);
