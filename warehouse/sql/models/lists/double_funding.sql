-- name:    lists.double_funding (build)
-- grain:   one row per kab/kota × person paid for twice (see int_double_funding)
-- columns: see ddl/lists/lists.sql
with premium as (
    select premium_idr from ref.pbi_premiums
    where in_force(valid_from, valid_to, $period)
),

final as (
    select
        $period as period,
        d.region_code as kabupaten_code,
        d.nik,
        d.nama,
        d.apbd_nokas,
        d.other_segments,
        d.other_nokas,
        p.premium_idr as monthly_cost_idr
    from int_double_funding as d
    cross join premium as p
    where d.region_level = 'kabupaten'
)

select * from final order by kabupaten_code, nik
