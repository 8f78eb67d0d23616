-- name:    int_dukcapil_rows (temp)
-- grain:   one row per Dukcapil record as delivered this period, loaded or quarantined, except
--          repeats of a NIK already in the file and records the parser could not split
-- columns: line, quarantined, nik, nik_intact (a 16-digit NIK: the row can be matched, even
--          when it was quarantined for another reason), no_kk, nama, jenis_kelamin, tgl_lahir
--          (text as delivered for quarantined rows), status, region_digits, detail
-- The population of a region is this table's HIDUP rows domiciled in it.
create or replace temp table int_dukcapil_rows as
with staged as (
    select
        line,
        false as quarantined,
        nik,
        no_kk,
        nama,
        jenis_kelamin,
        strftime(tgl_lahir, '%Y-%m-%d') as tgl_lahir,
        status,
        kode_wilayah as region_digits,
        null::varchar as detail
    from staging.dukcapil
    where period = $period
),

held as (
    select
        line,
        true as quarantined,
        trim(record ->> 'NIK') as nik,
        trim(record ->> 'NO_KK') as no_kk,
        trim(record ->> 'NAMA_LGKP') as nama,
        upper(trim(record ->> 'JENIS_KLMIN')) as jenis_kelamin,
        trim(record ->> 'TGL_LHR') as tgl_lahir,
        upper(trim(record ->> 'STATUS')) as status,
        replace(trim(record ->> 'KODE_WILAYAH'), '.', '') as region_digits,
        array_to_string(reasons, ', ') as detail
    from audit.quarantine
    where period = $period
      and source = 'dukcapil'
      and not list_contains(reasons, 'record_readable')
      and not list_contains(reasons, 'nik_unique_in_file')
),

final as (
    select *, regexp_full_match(coalesce(nik, ''), '\d{16}') as nik_intact
    from (select * from staged union all by name select * from held)
)

select * from final
