-- name:    lists.* — the row-level lists officers act on (restricted file only)
-- lists.outreach:       one row per period × resident in `population` with no valid
--                       membership (uncovered_residents); columns: period, kabupaten_code,
--                       kecamatan_code, desa_code, desa_name, nik, no_kk, nama, jenis_kelamin,
--                       tgl_lahir, reason, line
-- lists.cleanup:        one row per period × BPJS row registered in a kab/kota whose bridge
--                       category (kab/kota level) is not `resident`; columns: period,
--                       kabupaten_code, category, noka, nik, nama, segment, is_active,
--                       kode_wilayah, detail, line
-- lists.double_funding: one row per period × kab/kota × person with a valid PBI_APBD card
--                       there and a valid PBI_APBN or PPU_* card anywhere
-- lists.pbi_reconciliation: one row per period × kab/kota × person in a PBI category that
--                       asks for action (all but listed_active_pbi)
-- lists.quarantine:     view of audit.quarantine (every rejected row, with its reasons)
create schema if not exists lists;
create table if not exists lists.outreach (
    period date not null, kabupaten_code varchar not null, kecamatan_code varchar,
    desa_code varchar, desa_name varchar, nik varchar, no_kk varchar, nama varchar,
    jenis_kelamin varchar, tgl_lahir varchar, reason varchar not null, line bigint not null
);
create table if not exists lists.cleanup (
    period date not null, kabupaten_code varchar not null, category varchar not null,
    noka varchar, nik varchar, nama varchar, segment varchar, is_active boolean,
    kode_wilayah varchar, detail varchar, line bigint not null
);
create table if not exists lists.double_funding (
    period date not null, kabupaten_code varchar not null, nik varchar,
    nama varchar, apbd_nokas varchar[] not null, other_segments varchar[] not null,
    other_nokas varchar[] not null, monthly_cost_idr bigint not null
);
create table if not exists lists.pbi_reconciliation (
    period date not null, kabupaten_code varchar not null, category varchar not null,
    nik varchar, nama varchar, segments varchar[], nokas varchar[]
);
create or replace view lists.quarantine as select * from audit.quarantine;
-- lists.link_review:    one row per period × record whose best candidate person is likely but
--                       not certain (never linked automatically): the record and the candidate
--                       side by side, with the score and the evidence, for an officer to decide;
--                       pair_fingerprint (jkn_pair_fingerprint: the row's place and both sides'
--                       identity columns) identifies the row when the file comes back
--                       (jkn lists import); only pairs no officer has answered
create table if not exists lists.link_review (
    period date not null, source varchar not null, line bigint not null,
    record_nik varchar, record_nama varchar, record_tgl_lahir date,
    candidate_nik varchar not null, candidate_nama varchar, candidate_tgl_lahir date,
    score double not null, runner_up double, evidence varchar not null
);
alter table lists.link_review add column if not exists pair_fingerprint varchar;
