-- name:    marts.pbi_reconciliation (build)
-- grain:   one row per region × category (six categories, zero included), from int_pbi_persons
-- columns: see ddl/marts/pbi_reconciliation.sql
with categories as (
    -- rules/pbi_categories.csv: the categories and the order they are checked in
    select category, category_order from ref.pbi_categories
),

placed as (
    -- a person in one village code is counted there and rolled up; a person in several
    -- (PBI cards in two villages) is counted once in each region at each level
    select l.region_level, l.region_code, l.region_name, p.category, p.n
    from (
        select region_digits, category, count(*) as n
        from int_pbi_persons
        where villages = 1
        group by all
    ) as p
    inner join int_region_levels as l on l.region_digits = p.region_digits
    union all
    select region_level, region_code, region_name, category, count(*)
    from (
        select distinct l.region_level, l.region_code, l.region_name, p.person_key, p.category
        from int_pbi_persons as p
        inner join int_region_levels as l on l.region_digits = p.region_digits
        where p.villages > 1
    )
    group by all
),

regions as (
    select distinct region_level, region_code, region_name from placed
),

counted as (
    select region_level, region_code, category, sum(n)::bigint as n
    from placed
    group by all
),

final as (
    select
        $period as period,
        r.region_code,
        r.region_level,
        r.region_name,
        c.category,
        c.category_order,
        coalesce(k.n, 0) as persons
    from regions as r
    cross join categories as c
    left join counted as k
        on k.region_level = r.region_level
        and k.region_code = r.region_code
        and k.category = c.category
)

select * from final order by region_code, category_order
