-- name:    marts.activity_by_segment (build)
-- grain:   one row per region × segment present there
-- columns: see ddl/marts/activity_by_segment.sql
with final as (
    -- from the bridge's groups of rows (int_bpjs_bridge: `rows` each)
    select
        $period as period,
        region_code,
        region_level,
        any_value(region_name) as region_name,
        segment,
        sum("rows")::bigint as registered,
        coalesce(sum("rows") filter (where is_active), 0)::bigint as active,
        coalesce(sum("rows") filter (where not is_active), 0)::bigint as inactive,
        coalesce(sum("rows") filter (where is_active), 0)::bigint / sum("rows")::bigint
            as activity_of_registered,
        coalesce(
            sum("rows") filter (where not is_active and ket_nonaktif = 'MENUNGGAK'), 0
        )::bigint as inactive_arrears,
        coalesce(
            sum("rows") filter (where not is_active and ket_nonaktif = 'PBI_DINONAKTIFKAN'), 0
        )::bigint as inactive_pbi_deactivated,
        coalesce(
            sum("rows") filter (
                where not is_active
                and coalesce(ket_nonaktif, '') not in ('MENUNGGAK', 'PBI_DINONAKTIFKAN')
            ),
            0
        )::bigint as inactive_other
    from int_bpjs_bridge
    group by region_level, region_code, segment
)

select * from final order by region_code, segment
