-- name:    lists.link_review (build)
-- grain:   one row per record whose linkage decision is 'review' (a pair an officer answered
--          is never 'review' again: 'same' links it, 'different' takes the candidate away)
-- columns: see ddl/lists/lists.sql; pair_fingerprint from jkn_pair_fingerprint (sql/macros)
with reviewed as (
    select * from intermediate.link_evidence where period = $period and decision = 'review'
),

records as (
    select 'bpjs_membership' as source, line, nik, nama, tgl_lahir
    from staging.bpjs_membership where period = $period
    union all
    select 'dinsos_pbi', line, nik, nama, tgl_lahir
    from staging.dinsos_pbi where period = $period
),

final as (
    select
        $period as period,
        v.source,
        v.line,
        r.nik as record_nik,
        r.nama as record_nama,
        r.tgl_lahir as record_tgl_lahir,
        v.candidate_nik,
        d.nama as candidate_nama,
        d.tgl_lahir as candidate_tgl_lahir,
        v.score,
        v.runner_up,
        v.evidence,
        jkn_pair_fingerprint(
            $period, v.source, v.line, r.nik, r.nama, r.tgl_lahir,
            v.candidate_nik, d.nama, d.tgl_lahir
        ) as pair_fingerprint
    from reviewed as v
    inner join records as r using (source, line)
    left join staging.dukcapil as d on d.period = $period and d.nik = v.candidate_nik
)

select * from final order by source, line
