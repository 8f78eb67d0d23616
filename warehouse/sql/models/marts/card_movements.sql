-- name:    marts.card_movements (build)
-- grain:   one row per region (every level) × segment with BPJS rows in either month
-- columns: see ddl/marts/card_movements.sql
-- params:  $period (the month whose movements these are), $previous_period (the month before
--          when it was published; null: it was not, and every flow column is null)
-- Both months are read from intermediate.card_state, so the same model recomputes the month
-- after a period published late. Counted per NOKA × region × segment: a = the NOKA's rows
-- there last month, b = this month (one each, normally; a NOKA repeated in a file counts with
-- its repeats): absent from last month's whole extract → new (b); absent from this month's →
-- ended (a); in both → moved in max(b − a, 0), moved out max(a − b, 0). So
-- start + new − ended + moved_in − moved_out = end holds for every NOKA, hence every row.
with placed as (
    select
        c.period,
        c.line,
        c.noka,
        c.segment,
        c.is_active,
        c.ket_nonaktif,
        l.region_level,
        l.region_code,
        l.region_name
    from intermediate.card_state as c
    inner join int_region_levels as l on l.region_digits = c.region_digits
    where c.period = $period or c.period = $previous_period
),

extract_nokas as (
    -- which tracked NOKAs each month's whole extract holds (placed or not)
    select distinct period, noka
    from intermediate.card_state
    where (period = $period or period = $previous_period) and noka is not null
),

per_card as (
    select
        period,
        noka,
        region_level,
        region_code,
        segment,
        count(*) as n,
        count(*) filter (where is_active) as n_active,
        bool_or(is_active) as any_active,
        arg_min(ket_nonaktif, line) as ket_nonaktif
    from placed
    where noka is not null
    group by all
),

paired as (
    select
        coalesce(t.noka, p.noka) as noka,
        coalesce(t.region_level, p.region_level) as region_level,
        coalesce(t.region_code, p.region_code) as region_code,
        coalesce(t.segment, p.segment) as segment,
        coalesce(p.n, 0) as a,
        coalesce(t.n, 0) as b,
        coalesce(t.n_active, 0) as b_active,
        p.any_active as was_active,
        t.any_active as is_active,
        t.ket_nonaktif
    from (select * from per_card where period = $period) as t
    full outer join (select * from per_card where period = $previous_period) as p
        on p.noka = t.noka
        and p.region_level = t.region_level
        and p.region_code = t.region_code
        and p.segment = t.segment
),

flagged as (
    select
        c.*,
        before.noka is not null as in_previous,
        now.noka is not null as in_current
    from paired as c
    left join (select noka from extract_nokas where period = $previous_period) as before
        on before.noka = c.noka
    left join (select noka from extract_nokas where period = $period) as now
        on now.noka = c.noka
),

flows as (
    select
        region_level,
        region_code,
        segment,
        sum(a)::bigint as cards_start,
        sum(b)::bigint as cards_end,
        sum(b) filter (where not in_previous)::bigint as cards_new,
        sum(b_active) filter (where not in_previous)::bigint as new_active,
        sum(a) filter (where not in_current)::bigint as cards_ended,
        sum(greatest(b - a, 0)) filter (where in_previous and in_current)::bigint
            as cards_moved_in,
        sum(greatest(a - b, 0)) filter (where in_previous and in_current)::bigint
            as cards_moved_out,
        count(*) filter (where a > 0 and b > 0 and not was_active and is_active)::bigint
            as activated,
        count(*) filter (
            where a > 0 and b > 0 and was_active and not is_active
            and ket_nonaktif = 'MENUNGGAK'
        )::bigint as deactivated_arrears,
        count(*) filter (
            where a > 0 and b > 0 and was_active and not is_active
            and ket_nonaktif = 'PBI_DINONAKTIFKAN'
        )::bigint as deactivated_pbi,
        count(*) filter (
            where a > 0 and b > 0 and was_active and not is_active
            and coalesce(ket_nonaktif, '') not in ('MENUNGGAK', 'PBI_DINONAKTIFKAN')
        )::bigint as deactivated_other
    from flagged
    group by region_level, region_code, segment
),

untracked as (
    select region_level, region_code, segment, count(*)::bigint as cards_untracked
    from placed
    where period = $period and noka is null
    group by region_level, region_code, segment
),

names as (
    select distinct region_level, region_code, region_name from placed
),

final as (
    select
        $period as period,
        k.region_code,
        k.region_level,
        n.region_name,
        k.segment,
        $previous_period::date as previous_period,
        $previous_period is not null as previous_published,
        case when $previous_period is not null then coalesce(f.cards_start, 0) end
            as cards_start,
        case when $previous_period is not null then coalesce(f.cards_new, 0) end as cards_new,
        case when $previous_period is not null then coalesce(f.cards_ended, 0) end
            as cards_ended,
        case when $previous_period is not null then coalesce(f.cards_moved_in, 0) end
            as cards_moved_in,
        case when $previous_period is not null then coalesce(f.cards_moved_out, 0) end
            as cards_moved_out,
        coalesce(f.cards_end, 0) as cards_end,
        coalesce(u.cards_untracked, 0) as cards_untracked,
        case when $previous_period is not null then coalesce(f.activated, 0) end as activated,
        case when $previous_period is not null then coalesce(f.deactivated_arrears, 0) end
            as deactivated_arrears,
        case when $previous_period is not null then coalesce(f.deactivated_pbi, 0) end
            as deactivated_pbi,
        case when $previous_period is not null then coalesce(f.deactivated_other, 0) end
            as deactivated_other,
        case when $previous_period is not null then coalesce(f.new_active, 0) end
            as new_active
    from (
        select region_level, region_code, segment from flows
        union
        select region_level, region_code, segment from untracked
    ) as k
    left join flows as f using (region_level, region_code, segment)
    left join untracked as u using (region_level, region_code, segment)
    left join names as n using (region_level, region_code)
)

select * from final order by region_code, segment
