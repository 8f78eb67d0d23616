-- name:    int_dinsos_persons (temp)
-- grain:   one row per person on this period's PBI list (valid rows; a person listed twice
--          counts once, at the first listing)
-- columns: person_key, nik, nama, region_digits (the list's KODE_WILAYAH), desil (the
--          listing's welfare decile, 1–10)
create or replace temp table int_dinsos_persons as
with listed as (
    select
        p.person_key,
        s.nik,
        s.nama,
        s.kode_wilayah as region_digits,
        s.desil,
        row_number() over (partition by p.person_key order by s.line) as nth
    from staging.dinsos_pbi as s
    inner join intermediate.row_person as p
        on p.period = s.period and p.source = 'dinsos_pbi' and p.line = s.line
    where s.period = $period
),

final as (
    select * exclude (nth) from listed where nth = 1
)

select * from final
