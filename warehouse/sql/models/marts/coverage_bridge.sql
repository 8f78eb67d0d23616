-- name:    marts.coverage_bridge (build)
-- grain:   one row per region with registered rows × each of the seven categories
-- columns: see ddl/marts/coverage_bridge.sql
with categories as (
    -- rules/bridge_categories.csv: the categories and the order they are checked in
    select category, category_order from ref.bridge_categories
),

regions as (
    select distinct region_level, region_code, region_name from int_bpjs_bridge
),

counted as (
    select region_level, region_code, category, sum("rows")::bigint as n
    from int_bpjs_bridge
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
        coalesce(n, 0) as "rows"
    from regions as r
    cross join categories as c
    left join counted as k
        on k.region_level = r.region_level
        and k.region_code = r.region_code
        and k.category = c.category
)

select * from final order by region_code, category_order
