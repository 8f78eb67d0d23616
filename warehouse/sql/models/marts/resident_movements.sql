-- name:    marts.resident_movements (build)
-- grain:   one row per region (every level) with residents in either month
-- columns: see ddl/marts/resident_movements.sql
-- params:  $period, $previous_period (as for card_movements)
-- Residents are followed by NIK within a region at each level: a resident in both months'
-- population of the region has stayed (moving between two villages of one kecamatan, they
-- left one village and entered the other, and stayed in the kecamatan); a resident whose NIK
-- does not read cannot be followed, and so leaves one month and enters the next. Residents
-- alike in both months (village, covered, active) are grouped before meeting the levels.
with months as (
    select period, nik, region_digits, covered, active
    from intermediate.resident_state
    where period = $period or period = $previous_period
),

pairs as (
    -- a resident followed by NIK: both months side by side (one whose NIK does not read is
    -- in one month only)
    select
        p.period is not null as was_here,
        t.period is not null as now_here,
        p.region_digits as digits_before,
        t.region_digits as digits_now,
        coalesce(p.covered, false) as was_covered,
        coalesce(p.active, false) as was_active,
        coalesce(t.covered, false) as covered,
        coalesce(t.active, false) as active
    from (select * from months where period = $previous_period) as p
    full outer join (select * from months where period = $period) as t on t.nik = p.nik
),

transitions as (
    -- residents alike in both months' village and coverage are counted together
    select *, count(*) as residents from pairs group by all
),

placed as (
    select * from at_levels('transitions')
),

paired as (
    -- in the region in both months, or on one side of it
    select
        region_level, code_now as region_code, true as now_here, true as was_here,
        covered, active, was_covered, was_active, residents
    from placed
    where was_here and now_here and code_before = code_now
    union all
    select
        region_level, code_before, false, true, false, false, was_covered, was_active, residents
    from placed
    where was_here and code_before is not null
      and not (now_here and code_before is not distinct from code_now)
    union all
    select
        region_level, code_now, true, false, covered, active, false, false, residents
    from placed
    where now_here and code_now is not null
      and not (was_here and code_before is not distinct from code_now)
),

flows as (
    select
        region_level,
        region_code,
        sum(residents) filter (where was_here)::bigint as residents_start,
        sum(residents) filter (where now_here)::bigint as residents_end,
        sum(residents) filter (where now_here and not was_here)::bigint as residents_entered,
        sum(residents) filter (where was_here and not now_here)::bigint as residents_left,
        sum(residents) filter (where was_here and was_covered)::bigint as covered_start,
        sum(residents) filter (where now_here and covered)::bigint as covered_end,
        sum(residents) filter (where was_here and now_here and covered and not was_covered)::bigint
            as newly_covered,
        sum(residents) filter (where was_here and now_here and was_covered and not covered)::bigint
            as lost_coverage,
        sum(residents) filter (where now_here and not was_here and covered)::bigint
            as covered_entered,
        sum(residents) filter (where was_here and not now_here and was_covered)::bigint
            as covered_left,
        sum(residents) filter (where was_here and was_active)::bigint as active_start,
        sum(residents) filter (where now_here and active)::bigint as active_end,
        sum(residents) filter (where was_here and now_here and active and not was_active)::bigint
            as newly_active,
        sum(residents) filter (where was_here and now_here and was_active and not active)::bigint
            as lapsed,
        sum(residents) filter (where now_here and not was_here and active)::bigint
            as active_entered,
        sum(residents) filter (where was_here and not now_here and was_active)::bigint
            as active_left
    from paired
    group by region_level, region_code
),

names as (
    select distinct region_level, region_code, region_name from int_region_levels
),

filled as (
    -- a figure no resident of the region contributes to is 0
    select region_level, region_code, coalesce(columns(* exclude (region_level, region_code)), 0)
    from flows
),

final as (
    select
        $period as period,
        f.region_code,
        f.region_level,
        n.region_name,
        $previous_period::date as previous_period,
        $previous_period is not null as previous_published,
        jkn_flow(residents_start, $previous_period) as residents_start,
        jkn_flow(residents_entered, $previous_period) as residents_entered,
        jkn_flow(residents_left, $previous_period) as residents_left,
        residents_end,
        jkn_flow(covered_start, $previous_period) as covered_start,
        jkn_flow(newly_covered, $previous_period) as newly_covered,
        jkn_flow(lost_coverage, $previous_period) as lost_coverage,
        jkn_flow(covered_entered, $previous_period) as covered_entered,
        jkn_flow(covered_left, $previous_period) as covered_left,
        covered_end,
        jkn_flow(active_start, $previous_period) as active_start,
        jkn_flow(newly_active, $previous_period) as newly_active,
        jkn_flow(lapsed, $previous_period) as lapsed,
        jkn_flow(active_entered, $previous_period) as active_entered,
        jkn_flow(active_left, $previous_period) as active_left,
        active_end
    from filled as f
    left join names as n using (region_level, region_code)
)

select * from final order by region_code
