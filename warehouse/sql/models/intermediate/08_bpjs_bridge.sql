-- name:    int_bpjs_bridge (temp)
-- grain:   one row per region (every level) × category × segment × is_active × ket_nonaktif
--          among the BPJS rows registered there; `rows` counts them
-- columns: region_level, region_code, region_name, quarantined, category (the coverage
--          bridge, bridge_category), segment, is_active, ket_nonaktif, rows
-- Counted once per village code first and rolled up: the rows of a village code alike in
-- every column the bridge reads are one group, and only the groups meet the region levels.
create or replace temp table int_bpjs_bridge as
with villages as (
    select
        region_digits,
        quarantined,
        status_category,
        duplicate_digits,
        domicile_digits,
        segment,
        is_active,
        ket_nonaktif,
        count(*) as "rows"
    from int_bpjs_cards
    group by all
),

final as (
    select
        l.region_level,
        l.region_code,
        l.region_name,
        v.quarantined,
        bridge_category(
            l.digits, v.duplicate_digits, v.status_category, v.domicile_digits
        ) as category,
        v.segment,
        v.is_active,
        v.ket_nonaktif,
        sum(v.rows)::bigint as "rows"
    from villages as v
    inner join int_region_levels as l on l.region_digits = v.region_digits
    group by all
)

select * from final
