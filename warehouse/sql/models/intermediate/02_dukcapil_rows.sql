-- name:    int_dukcapil_rows (temp)
-- grain:   one row per Dukcapil record as delivered this period, loaded or quarantined, except
--          repeats of a NIK already in the file and records the parser could not split
-- columns: line, quarantined, nik, nik_intact (a 16-digit NIK: the row can be matched, even
--          when it was quarantined for another reason), no_kk, nama, jenis_kelamin (L/P),
--          tgl_lahir (YYYY-MM-DD; null where a quarantined row's date does not read), status,
--          region_digits
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
        kode_wilayah as region_digits
    from staging.dukcapil
    where period = $period
),

held as (
    -- parsed by the same code as the loaded rows (staging.quarantined_dukcapil)
    select
        h.line,
        true as quarantined,
        h.nik,
        h.no_kk,
        h.nama,
        h.jenis_kelamin,
        strftime(h.tgl_lahir, '%Y-%m-%d') as tgl_lahir,
        h.status,
        h.kode_wilayah as region_digits
    from staging.quarantined_dukcapil as h
    inner join audit.quarantine as q
        on q.period = h.period and q.source = 'dukcapil' and q.line = h.line
    where h.period = $period
      and not list_contains(q.reasons, 'nik_unique_in_file')
),

final as (
    select *, regexp_full_match(coalesce(nik, ''), '\d{16}') as nik_intact
    from (select * from staged union all by name select * from held)
)

select * from final
