-- name:    link_records (temp) — the side to be linked, normalised like link_people
-- grain:   one row per loaded BPJS card or PBI-list row of the period whose NIK does not
--          resolve to a Dukcapil record (missing, mistyped, or unknown), or resolves to a
--          person whose name *and* birth date both disagree with the row (a relative's NIK,
--          typically): nik_conflict
-- columns: rec_id ('<source>:<line>'), source, line, nik (as written, may be null),
--          nik_conflict, nik_consistent (the NIK encodes the row's birth date and sex),
--          name_key, core_key, plain_key, tokens, dob, sex, village, kecamatan, kabupaten,
--          no_kk
create or replace temp table link_records as
with rows as (
    select 'bpjs_membership' as source, line, nik, nama, tgl_lahir as dob,
           jenis_kelamin as sex, kode_wilayah as village, no_kk
    from staging.bpjs_membership where period = $period
    union all
    select 'dinsos_pbi', line, nik, nama, tgl_lahir, jenis_kelamin, kode_wilayah, no_kk
    from staging.dinsos_pbi where period = $period
),

names as (
    -- each distinct name normalised once, as in link_people (a missing name as '')
    select nama, jkn_name_parts(nama) as parts
    from (select distinct coalesce(nama, '') as nama from rows)
),

checked as (
    select
        r.*,
        n.parts,
        p.nik is not null as resolves,
        -- the cheap date comparisons first: the name's similarity only where they disagree
        p.nik is not null
            and abs(date_diff('day', r.dob, p.dob)) > $dob_near_days
            and jkn_swap_day_month(r.dob) is distinct from p.dob
            and jaro_winkler_similarity(n.parts.name_key, p.name_key) < $name_similar
            as nik_conflict
    from rows as r
    inner join names as n on n.nama = coalesce(r.nama, '')
    left join link_people as p on p.nik = r.nik
),

final as (
    select
        source || ':' || line as rec_id,
        source,
        line,
        nik,
        nik_conflict,
        -- the NIK encodes the row's own birth date and sex: it is likely right as written
        coalesce(
            substr(nik, 7, 6)
            = lpad((day(dob) + case when sex = 'P' then 40 else 0 end)::varchar, 2, '0')
            || strftime(dob, '%m%y'),
            false
        ) as nik_consistent,
        unnest(parts),
        unnest(jkn_places(village)),
        dob,
        sex,
        village,
        no_kk
    from checked
    where not resolves or nik_conflict
)

select * from final
