-- name:    audit.runs
-- grain:   one row per published period: the inputs and code it was built from
-- columns: period, fingerprint (sha256 of code_version and the three files' sha256),
--          code_version, sources (list of source=sha256), flow_run (Prefect run name or
--          'cli'), published_at
-- A backfill skips a period whose fingerprint is unchanged since it was last published.
create schema if not exists audit;
create table if not exists audit.runs (
    period       date not null,
    fingerprint  varchar not null,
    code_version varchar not null,
    sources      varchar[] not null,
    flow_run     varchar,
    published_at timestamptz not null
);
