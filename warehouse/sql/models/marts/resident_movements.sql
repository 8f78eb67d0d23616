-- name:    marts.resident_movements (build)
-- grain:   one row per region (every level) with residents in either month
-- columns: see ddl/marts/resident_movements.sql
-- params:  $period, $previous_period (as for card_movements)
-- Residents are followed by NIK within a region at each level: a resident in both months'
-- population of the region has stayed (moving between two villages of one kecamatan, they
-- left one village and entered the other, and stayed in the kecamatan); a resident whose NIK
-- does not read cannot be followed, and so leaves one month and enters the next.
with placed as (
    select r.period, r.nik, r.covered, r.active, l.region_level, l.region_code, l.region_name
    from intermediate.resident_state as r
    inner join int_region_levels as l on l.region_digits = r.region_digits
    where r.period = $period or r.period = $previous_period
),

paired as (
    select
        coalesce(t.region_level, p.region_level) as region_level,
        coalesce(t.region_code, p.region_code) as region_code,
        t.period is not null as now_here,
        p.period is not null as was_here,
        coalesce(t.covered, false) as covered,
        coalesce(t.active, false) as active,
        coalesce(p.covered, false) as was_covered,
        coalesce(p.active, false) as was_active
    from (select * from placed where period = $period) as t
    full outer join (select * from placed where period = $previous_period) as p
        on p.nik = t.nik and p.region_level = t.region_level and p.region_code = t.region_code
),

flows as (
    select
        region_level,
        region_code,
        count(*) filter (where was_here)::bigint as residents_start,
        count(*) filter (where now_here)::bigint as residents_end,
        count(*) filter (where now_here and not was_here)::bigint as residents_entered,
        count(*) filter (where was_here and not now_here)::bigint as residents_left,
        count(*) filter (where was_here and was_covered)::bigint as covered_start,
        count(*) filter (where now_here and covered)::bigint as covered_end,
        count(*) filter (where was_here and now_here and covered and not was_covered)::bigint
            as newly_covered,
        count(*) filter (where was_here and now_here and was_covered and not covered)::bigint
            as lost_coverage,
        count(*) filter (where now_here and not was_here and covered)::bigint
            as covered_entered,
        count(*) filter (where was_here and not now_here and was_covered)::bigint
            as covered_left,
        count(*) filter (where was_here and was_active)::bigint as active_start,
        count(*) filter (where now_here and active)::bigint as active_end,
        count(*) filter (where was_here and now_here and active and not was_active)::bigint
            as newly_active,
        count(*) filter (where was_here and now_here and was_active and not active)::bigint
            as lapsed,
        count(*) filter (where now_here and not was_here and active)::bigint as active_entered,
        count(*) filter (where was_here and not now_here and was_active)::bigint as active_left
    from paired
    group by region_level, region_code
),

names as (
    select distinct region_level, region_code, region_name from placed
),

final as (
    select
        $period as period,
        f.region_code,
        f.region_level,
        n.region_name,
        $previous_period::date as previous_period,
        $previous_period is not null as previous_published,
        case when $previous_period is not null then residents_start end as residents_start,
        case when $previous_period is not null then residents_entered end as residents_entered,
        case when $previous_period is not null then residents_left end as residents_left,
        residents_end,
        case when $previous_period is not null then covered_start end as covered_start,
        case when $previous_period is not null then newly_covered end as newly_covered,
        case when $previous_period is not null then lost_coverage end as lost_coverage,
        case when $previous_period is not null then covered_entered end as covered_entered,
        case when $previous_period is not null then covered_left end as covered_left,
        covered_end,
        case when $previous_period is not null then active_start end as active_start,
        case when $previous_period is not null then newly_active end as newly_active,
        case when $previous_period is not null then lapsed end as lapsed,
        case when $previous_period is not null then active_entered end as active_entered,
        case when $previous_period is not null then active_left end as active_left,
        active_end
    from flows as f
    left join names as n using (region_level, region_code)
)

select * from final order by region_code
