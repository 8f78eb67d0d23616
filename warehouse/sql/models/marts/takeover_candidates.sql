-- name:    marts.takeover_candidates (build)
-- grain:   one row per kabupaten/kota and per kecamatan this period (m_lever_regions: every
--          one of marts.coverage at those levels, zero included)
-- columns: see ddl/marts/takeover_candidates.sql. Persons of int_takeover_cards, placed by
--          their inactive card's BPJS KODE_WILAYAH (a person with such cards in two regions
--          counts once in each); arrears_months sums the BULAN_TUNGGAKAN of those cards.
with premium as (
    select premium_idr
    from ref.pbi_premiums
    where in_force(valid_from, valid_to, $period)
),

regions as (
    select * from m_lever_regions
),

per_person as (
    select l.region_level, l.region_code, t.person_key, sum(t.arrears_months) as arrears_months
    from int_takeover_cards as t
    inner join int_region_levels as l
        on l.region_digits = t.region_digits
        and l.region_level in (select region_level from regions)
    group by all
),

counted as (
    select
        region_level,
        region_code,
        count(*) as persons,
        sum(arrears_months)::bigint as arrears_months
    from per_person
    group by all
),

final as (
    select
        $period as period,
        r.region_code,
        r.region_level,
        r.region_name,
        coalesce(c.persons, 0) as persons,
        coalesce(c.arrears_months, 0) as arrears_months,
        coalesce(c.persons, 0) * p.premium_idr as monthly_cost_idr
    from regions as r
    cross join premium as p
    left join counted as c on c.region_level = r.region_level and c.region_code = r.region_code
)

select * from final order by region_code
