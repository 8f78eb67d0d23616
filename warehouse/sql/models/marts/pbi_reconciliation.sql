-- name:    marts.pbi_reconciliation (build)
-- grain:   one row per region × category (six categories, zero included), from int_pbi_persons
-- columns: see ddl/marts/pbi_reconciliation.sql
with categories as (
    -- rules/pbi_categories.csv: the categories and the order they are checked in
    select category, category_order from ref.pbi_categories
),

regions as (
    select distinct region_level, region_code, region_name from int_pbi_persons
),

counted as (
    select region_level, region_code, category, count(*) as n
    from int_pbi_persons
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
