-- name:    link_people (temp) — the Dukcapil side of the linkage, normalised
-- grain:   one row per NIK in this period's Dukcapil extract (loaded or
--          quarantined record with an intact NIK; the loaded one wins)
-- columns: nik, name_key (normalised name, spaces
--          dropped), tokens, dob, sex, village, kecamatan, kabupaten, no_kk
-- jkn_name_key(n) and jkn_tokens(n) are macros built from settings.json (see jkn/link).
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

final as (
    select
        nik,
        unnest(jkn_comparable(nama, village)),
        dob,
        sex,
        village,
        no_kk
    from rows
    qualify row_number() over (partition by nik order by pref, line) = 1
)

select * from final
