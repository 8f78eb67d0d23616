-- name:    audit.review_decisions — officers' answers on the linkage's review pairs
-- grain:   one row per (source, record_key, candidate_nik): one answer per pair, applied in
--          every later month (jkn lists import stores them; --replace changes one)
-- columns: source (bpjs_membership | dinsos_pbi), record_key (the record across months:
--          jkn_record_key — 'noka:<NOKA>' for a card, 'pbi:<name>|<birth date>|<sex>|<village>'
--          for a PBI-list row), candidate_nik (the Dukcapil person judged), answer ('same':
--          the record is linked to that NIK whatever its score; 'different': that candidate is
--          never proposed for the record again), decided_at (when imported, UTC), file_name
--          (as delivered), file_sha256, period, line and pair_fingerprint (the review row the
--          answer was given on)
create schema if not exists audit;
create table if not exists audit.review_decisions (
    source           varchar not null,
    record_key       varchar not null,
    candidate_nik    varchar not null,
    answer           varchar not null,
    decided_at       timestamptz not null,
    file_name        varchar not null,
    file_sha256      varchar not null,
    period           date not null,
    line             bigint not null,
    pair_fingerprint varchar not null
);
