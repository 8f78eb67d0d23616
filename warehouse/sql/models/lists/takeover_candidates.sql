-- name:    lists.takeover_candidates (build)
-- grain:   one row per kab/kota × takeover candidate (int_takeover_cards): its length is the
--          kab/kota's marts.takeover_candidates.persons
-- columns: see ddl/lists/takeover_candidates.sql. nokas, segments: the person's inactive
--          cards in arrears there (usually one); arrears_months: their BULAN_TUNGGAKAN summed
--          (the mart's sum over the list); the village is that of the first of those cards
--          (smallest NOKA); monthly_cost_idr: the PBI premium in force for one person.
with premium as (
    select premium_idr from ref.pbi_premiums
    where in_force(valid_from, valid_to, $period)
),

kabupaten as (
    select region_digits, region_code from int_region_levels where region_level = 'kabupaten'
),

kecamatan as (
    select region_digits, region_code from int_region_levels where region_level = 'kecamatan'
),

desa as (
    select region_digits, region_code, region_name from int_region_levels
    where region_level = 'desa'
),

persons as (
    select
        k.region_code as kabupaten_code,
        t.person_key,
        any_value(t.nik) as nik,
        any_value(t.nama) as nama,
        any_value(t.desil) as desil,
        list(t.noka order by t.noka) as nokas,
        list(distinct t.segment order by t.segment) as segments,
        sum(t.arrears_months)::bigint as arrears_months,
        arg_min(t.region_digits, t.noka) as region_digits
    from int_takeover_cards as t
    inner join kabupaten as k on k.region_digits = t.region_digits
    group by k.region_code, t.person_key
),

final as (
    select
        $period as period,
        p.kabupaten_code,
        c.region_code as kecamatan_code,
        d.region_code as desa_code,
        d.region_name as desa_name,
        p.nik,
        p.nama,
        p.nokas,
        p.segments,
        p.arrears_months,
        p.desil,
        m.premium_idr as monthly_cost_idr
    from persons as p
    cross join premium as m
    left join kecamatan as c on c.region_digits = p.region_digits
    left join desa as d on d.region_digits = p.region_digits
)

select * from final order by kabupaten_code, desa_code, nik
