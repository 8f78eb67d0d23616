-- name:    link_officer_pairs (temp) — the officers' answers that bear on this period's records
-- grain:   one row per (record of link_records, candidate NIK) an officer has answered in
--          audit.review_decisions (jkn lists import). Answers are keyed by the record's
--          jkn_record_key (a card's NOKA; a PBI-list row's name, birth date, sex and village)
--          and the candidate's NIK, never by line: an answer given on any month's review list
--          applies to the record's line in this month and every later one
-- columns: rec_id, nik (the candidate judged), answer ('same' | 'different'), applies (a
--          'different' always applies; a 'same' only when the NIK is a person of this
--          period's Dukcapil side, link_people — a NIK no longer delivered links nobody),
--          decided_at, file_name (the answers' file, as delivered)
create or replace temp table link_officer_pairs as
with records as (
    select
        r.rec_id,
        r.source,
        jkn_record_key(
            r.source, b.noka, b.nama, b.tgl_lahir, b.jenis_kelamin, b.kode_wilayah
        ) as record_key
    from link_records as r
    inner join staging.bpjs_membership as b on b.period = $period and b.line = r.line
    where r.source = 'bpjs_membership'
    union all
    select
        r.rec_id,
        r.source,
        jkn_record_key(r.source, null, d.nama, d.tgl_lahir, d.jenis_kelamin, d.kode_wilayah)
    from link_records as r
    inner join staging.dinsos_pbi as d on d.period = $period and d.line = r.line
    where r.source = 'dinsos_pbi'
),

final as (
    select
        r.rec_id,
        o.candidate_nik as nik,
        o.answer,
        o.answer = 'different' or p.nik is not null as applies,
        o.decided_at,
        o.file_name
    from records as r
    inner join audit.review_decisions as o
        on o.source = r.source and o.record_key = r.record_key
    left join link_people as p on p.nik = o.candidate_nik
)

select * from final
