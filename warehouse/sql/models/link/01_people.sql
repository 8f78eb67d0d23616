-- name:    link_people (temp) — the Dukcapil side of the linkage, normalised
-- grain:   one row per NIK in this period's Dukcapil extract (loaded or
--          quarantined record with an intact NIK; the loaded one wins)
-- columns: nik, name_key (normalised name, spaces
--          dropped), core_key (without the common parts), plain_key (letters as written),
--          tokens, kecamatan, kabupaten, dob, sex, village, no_kk
-- jkn_name_parts(n) and jkn_places(village) are macros built from settings.json (see
-- jkn/link); a name is normalised once however many residents bear it, and joined back.
create or replace temp table link_people as
with rows as (
    select nik, nama, tgl_lahir as dob, jenis_kelamin as sex, kode_wilayah as village, no_kk,
           0 as pref, line
    from staging.dukcapil where period = $period
    union all
    select nik, nama, tgl_lahir, jenis_kelamin, kode_wilayah, no_kk, 1, line
    from staging.quarantined_dukcapil
    where period = $period
      and regexp_full_match(coalesce(nik, ''), '\d{16}')
),

chosen as (
    select nik, coalesce(nama, '') as nama, dob, sex, village, no_kk
    from rows
    qualify row_number() over (partition by nik order by pref, line) = 1
),

names as (
    -- each distinct name normalised once (the macros treat a missing name as '')
    select nama, jkn_name_parts(nama) as parts
    from (select distinct nama from chosen)
),

final as (
    select
        c.nik,
        unnest(n.parts),
        unnest(jkn_places(c.village)),
        c.dob,
        c.sex,
        c.village,
        c.no_kk
    from chosen as c
    inner join names as n on n.nama = c.nama
)

select * from final
