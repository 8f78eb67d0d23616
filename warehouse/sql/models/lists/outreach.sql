-- name:    lists.outreach (build)
-- grain:   one row per resident of a kab/kota (population) holding no valid membership
-- columns: see ddl/lists/lists.sql. reason: no_valid_membership, or nik_unreadable_in_dukcapil
--          when the resident's own Dukcapil NIK is damaged (no card can be matched to it)
with kabupaten as (
    select region_digits, region_code from int_region_levels where region_level = 'kabupaten'
),

desa as (
    select region_digits, region_code, region_name from int_region_levels
    where region_level = 'desa'
),

kecamatan as (
    select region_digits, region_code from int_region_levels where region_level = 'kecamatan'
),

final as (
    select
        $period as period,
        b.region_code as kabupaten_code,
        k.region_code as kecamatan_code,
        d.region_code as desa_code,
        d.region_name as desa_name,
        r.nik,
        r.no_kk,
        r.nama,
        r.jenis_kelamin,
        r.tgl_lahir,
        case
            when not p.nik_intact then 'nik_unreadable_in_dukcapil'
            else 'no_valid_membership'
        end as reason,
        p.line
    from int_population as p
    inner join int_dukcapil_rows as r on r.line = p.line
    inner join kabupaten as b on b.region_digits = p.region_digits
    left join desa as d on d.region_digits = p.region_digits
    left join kecamatan as k on k.region_digits = p.region_digits
    where not p.has_card
)

select * from final order by kabupaten_code, desa_code, line
