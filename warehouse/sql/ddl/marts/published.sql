-- name:    marts.published
-- grain:   one row per period published: what its figures were built from, and when
-- columns: period, published_at (UTC: when the publish step wrote the file whose atomic
--          rename made the period visible), code_version (the logic fingerprint, as
--          audit.runs), rules_version (SHA-256 of warehouse/rules/*.csv, 16 hex),
--          region_list (the Kemendagri list's edition), population_snapshot (as
--          marts.coverage), flow_run (the Prefect run that published it)
-- Replaced with the period's other marts. No personal data. contracts/marts.md.
create schema if not exists marts;
create table if not exists marts.published (
    period              date not null,
    published_at        timestamptz not null,
    code_version        varchar not null,
    rules_version       varchar not null,
    region_list         varchar not null,
    population_snapshot varchar not null,
    flow_run            varchar
);
