-- name:    int_bpjs_rows (temp)
-- grain:   one row per BPJS row as delivered this period, loaded or quarantined (records the
--          parser could not split have no readable region and are counted in data_quality only)
-- columns: line, quarantined, noka, nik, nama, segment (current code, UNKNOWN when not in the
--          list), is_active, ket_nonaktif, bulan_tunggakan (months in arrears; null when the
--          extract has no such column or the value does not read), region_digits (undotted
--          village code as BPJS holds it), person_key (loaded rows: the person; quarantined:
--          null), detail (quarantine reasons)
create or replace temp table int_bpjs_rows as
with staged as (
    select
        s.line,
        false as quarantined,
        s.noka,
        s.nik,
        s.nama,
        s.segmen as segment,
        s.status_peserta = 'AKTIF' as is_active,
        s.ket_nonaktif,
        s.bulan_tunggakan,
        s.kode_wilayah as region_digits,
        p.person_key,
        null::varchar as detail
    from staging.bpjs_membership as s
    left join intermediate.row_person as p
        on p.period = s.period and p.source = 'bpjs_membership' and p.line = s.line
    where s.period = $period
),

held as (
    -- parsed by the same code as the loaded rows (staging.quarantined_bpjs_membership: the
    -- segment is already the current code where it was an older name)
    select
        h.line,
        true as quarantined,
        h.noka,
        h.nik,
        h.nama,
        coalesce(k.segment, 'UNKNOWN') as segment,
        coalesce(h.status_peserta = 'AKTIF', false) as is_active,
        h.ket_nonaktif,
        h.bulan_tunggakan,
        h.kode_wilayah as region_digits,
        null::varchar as person_key,
        array_to_string(q.reasons, ', ') as detail
    from staging.quarantined_bpjs_membership as h
    inner join audit.quarantine as q
        on q.period = h.period and q.source = 'bpjs_membership' and q.line = h.line
    left join ref.segments as k on k.segment = h.segmen
    where h.period = $period
),

final as (
    select * from staged
    union all by name
    select * from held
)

select * from final
