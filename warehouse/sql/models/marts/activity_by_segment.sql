-- name:    marts.activity_by_segment (build)
-- grain:   one row per region × segment present there
-- columns: see ddl/marts/activity_by_segment.sql
with final as (
    select
        $period as period,
        region_code,
        region_level,
        any_value(region_name) as region_name,
        segment,
        count(*) as registered,
        count(*) filter (where is_active) as active,
        count(*) filter (where not is_active) as inactive,
        count(*) filter (where is_active) / count(*) as activity_of_registered,
        count(*) filter (where not is_active and ket_nonaktif = 'MENUNGGAK') as inactive_arrears,
        count(*) filter (
            where not is_active and ket_nonaktif = 'PBI_DINONAKTIFKAN'
        ) as inactive_pbi_deactivated,
        count(*) filter (
            where not is_active
            and coalesce(ket_nonaktif, '') not in ('MENUNGGAK', 'PBI_DINONAKTIFKAN')
        ) as inactive_other
    from int_bpjs_bridge
    group by region_level, region_code, segment
)

select * from final order by region_code, segment
