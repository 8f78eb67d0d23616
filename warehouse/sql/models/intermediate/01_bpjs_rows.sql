-- name:    int_bpjs_rows (temp)
-- grain:   one row per BPJS row as delivered this period, loaded or quarantined (records the
--          parser could not split have no readable region and are counted in data_quality only)
-- columns: line, quarantined, noka, nik, nama, segment (current code, UNKNOWN when not in the
--          list), is_active, ket_nonaktif, bulan_tunggakan, region_digits (undotted village
--          code as BPJS holds it), person_key (loaded rows: the person; quarantined: null),
--          detail (quarantine reasons)
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
    select
        q.line,
        true as quarantined,
        trim(q.record ->> 'NOKA') as noka,
        trim(q.record ->> 'NIK') as nik,
        trim(q.record ->> 'NAMA') as nama,
        upper(trim(q.record ->> 'SEGMEN')) as raw_segment,
        coalesce(upper(trim(q.record ->> 'STATUS_PESERTA')) = 'AKTIF', false) as is_active,
        nullif(upper(trim(q.record ->> 'KET_NONAKTIF')), '') as ket_nonaktif,
        try_cast(trim(q.record ->> 'BULAN_TUNGGAKAN') as integer) as bulan_tunggakan,
        replace(trim(q.record ->> 'KODE_WILAYAH'), '.', '') as region_digits,
        array_to_string(q.reasons, ', ') as detail
    from audit.quarantine as q
    where q.period = $period
      and q.source = 'bpjs_membership'
      and not list_contains(q.reasons, 'record_readable')
),

final as (
    select * from staged
    union all by name
    select
        h.* exclude (raw_segment),
        coalesce(a.segment, k.segment, 'UNKNOWN') as segment,
        null::varchar as person_key
    from held as h
    left join ref.segment_aliases as a on a.alias = h.raw_segment
    left join ref.segments as k on k.segment = h.raw_segment
)

select * from final
