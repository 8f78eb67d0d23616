-- name:    lists.pbi_reconciliation (build)
-- grain:   one row per kab/kota × person in a PBI reconciliation category that asks for
--          action (every category but listed_active_pbi, which is as it should be)
-- columns: see ddl/lists/lists.sql
with wanted as (
    -- a person holding PBI cards in two villages of one kab/kota is listed once there
    select distinct l.region_code, p.person_key, p.category
    from int_pbi_persons as p
    inner join int_region_levels as l
        on l.region_digits = p.region_digits and l.region_level = 'kabupaten'
    where p.category <> 'listed_active_pbi'
),

cards as (
    select
        b.person_key,
        any_value(b.nik) as nik,
        any_value(b.nama) as nama,
        list(distinct b.segment order by b.segment) as segments,
        list(b.noka order by b.noka) as nokas
    from int_bpjs_rows as b
    semi join wanted as w on w.person_key = b.person_key
    where not b.quarantined
    group by b.person_key
),

final as (
    select
        $period as period,
        w.region_code as kabupaten_code,
        w.category,
        coalesce(
            l.nik, case when regexp_full_match(w.person_key, '\d{16}') then w.person_key end, c.nik
        ) as nik,
        coalesce(l.nama, c.nama) as nama,
        c.segments,
        c.nokas
    from wanted as w
    left join int_dinsos_persons as l on l.person_key = w.person_key
    left join cards as c on c.person_key = w.person_key
)

select * from final order by kabupaten_code, category, nik
