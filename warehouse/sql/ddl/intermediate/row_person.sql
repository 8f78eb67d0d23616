-- name:    intermediate.row_person
-- grain:   one row per period × source × loaded row (staging), naming the person it belongs to
-- columns: period, source, line (the row's line in its staged file), person_key (the person:
--          a NIK, or 'card:<NOKA>' for a card that names no one yet), method (how the row was
--          resolved: 'nik' or 'unlinked'; linking by name, birth date, sex and place adds
--          methods here without touching the marts)
-- The one seam between identity resolution and everything downstream.
create schema if not exists intermediate;
create table if not exists intermediate.row_person (
    period     date not null,
    source     varchar not null,
    line       bigint not null,
    person_key varchar not null,
    method     varchar not null
);

-- name:    intermediate.link_evidence
-- grain:   one row per period × record (BPJS card or PBI-list row) whose NIK did not resolve
--          and that had at least one candidate
-- columns: period, source, line, candidate_nik (best candidate), score, runner_up, decision
--          (link / review / none), evidence (JSON: each comparison's level and the blocking
--          rules), settings_version (jkn/link/settings.json's version)
create table if not exists intermediate.link_evidence (
    period           date not null,
    source           varchar not null,
    line             bigint not null,
    candidate_nik    varchar not null,
    score            double not null,
    runner_up        double,
    decision         varchar not null,
    evidence         varchar not null,
    settings_version varchar not null
);
