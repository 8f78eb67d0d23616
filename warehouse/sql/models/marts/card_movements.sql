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
-- The NOKAs that are one row a month are first grouped by what they did (village, segment
-- and status in both months), so the region levels meet thousands of groups, not a million
-- cards; repeated NOKAs are counted card by card.
with months as (
    select period, line, noka, region_digits, segment, is_active, ket_nonaktif
    from intermediate.card_state
    where (period = $period or period = $previous_period) and noka is not null
),

repeats as (
    -- NOKAs with more than one row in a month (repeated in the file): counted card by card
    select distinct noka from months group by period, noka having count(*) > 1
),

pairs as (
    -- every other NOKA is one row a month, or none: its two months side by side
    select
        p.noka is not null as in_previous,
        t.noka is not null as in_current,
        p.region_digits as digits_before,
        p.segment as segment_before,
        p.is_active as was_active,
        t.region_digits as digits_now,
        t.segment as segment_now,
        t.is_active,
        t.ket_nonaktif
    from (select * from months where period = $previous_period) as p
    full outer join (select * from months where period = $period) as t on t.noka = p.noka
    where coalesce(p.noka, t.noka) not in (select noka from repeats)
),

transitions as (
    -- cards alike in both months' village, segment and status are counted together
    select *, count(*) as cards from pairs group by all
),

placed_transitions as (
    select * from at_levels('transitions')
),

stayed as (
    -- here in both months, same segment: a = b = 1
    select
        region_level, code_now as region_code, segment_now as segment, 1 as a, 1 as b,
        case when is_active then 1 else 0 end as b_active, was_active, is_active,
        ket_nonaktif, true as in_previous, true as in_current, cards
    from placed_transitions
    where in_previous and in_current and code_before = code_now
      and segment_before = segment_now
),

sides as (
    -- elsewhere (or absent) in the other month: one side each
    select
        region_level, code_before as region_code, segment_before as segment, 1 as a, 0 as b,
        0 as b_active, was_active, null::boolean as is_active, null::varchar as ket_nonaktif,
        in_previous, in_current, cards
    from placed_transitions
    where in_previous and code_before is not null
      and not (in_current and code_before is not distinct from code_now
               and segment_before = segment_now)
    union all
    select
        region_level, code_now, segment_now, 0, 1,
        case when is_active then 1 else 0 end, null, is_active, ket_nonaktif,
        in_previous, in_current, cards
    from placed_transitions
    where in_current and code_now is not null
      and not (in_previous and code_before is not distinct from code_now
               and segment_before = segment_now)
),

repeated as (
    -- a repeated NOKA: per region and segment, a = its rows there last month, b = this month
    select
        l.region_level, l.region_code, c.segment, c.period, c.noka,
        count(*) as n, count(*) filter (where c.is_active) as n_active,
        bool_or(c.is_active) as any_active, arg_min(c.ket_nonaktif, c.line) as ket_nonaktif
    from months as c
    inner join int_region_levels as l on l.region_digits = c.region_digits
    where c.noka in (select noka from repeats)
    group by all
),

repeated_pairs as (
    select
        coalesce(t.region_level, p.region_level) as region_level,
        coalesce(t.region_code, p.region_code) as region_code,
        coalesce(t.segment, p.segment) as segment,
        coalesce(p.n, 0) as a,
        coalesce(t.n, 0) as b,
        coalesce(t.n_active, 0) as b_active,
        p.any_active as was_active,
        t.any_active as is_active,
        t.ket_nonaktif,
        coalesce(t.noka, p.noka) in (select noka from months where period = $previous_period)
            as in_previous,
        coalesce(t.noka, p.noka) in (select noka from months where period = $period)
            as in_current,
        1 as cards
    from (select * from repeated where period = $period) as t
    full outer join (select * from repeated where period = $previous_period) as p
        on p.noka = t.noka
        and p.region_level = t.region_level
        and p.region_code = t.region_code
        and p.segment = t.segment
),

flagged as (
    select * from stayed
    union all
    select * from sides
    union all
    select * from repeated_pairs
),

flows as (
    -- each row stands for `cards` NOKAs alike
    select
        region_level,
        region_code,
        segment,
        sum(cards * a)::bigint as cards_start,
        sum(cards * b)::bigint as cards_end,
        sum(cards * b) filter (where not in_previous)::bigint as cards_new,
        sum(cards * b_active) filter (where not in_previous)::bigint as new_active,
        sum(cards * a) filter (where not in_current)::bigint as cards_ended,
        sum(cards * greatest(b - a, 0)) filter (where in_previous and in_current)::bigint
            as cards_moved_in,
        sum(cards * greatest(a - b, 0)) filter (where in_previous and in_current)::bigint
            as cards_moved_out,
        sum(cards) filter (where a > 0 and b > 0 and not was_active and is_active)::bigint
            as activated,
        sum(cards) filter (
            where a > 0 and b > 0 and was_active and not is_active
            and ket_nonaktif = 'MENUNGGAK'
        )::bigint as deactivated_arrears,
        sum(cards) filter (
            where a > 0 and b > 0 and was_active and not is_active
            and ket_nonaktif = 'PBI_DINONAKTIFKAN'
        )::bigint as deactivated_pbi,
        sum(cards) filter (
            where a > 0 and b > 0 and was_active and not is_active
            and coalesce(ket_nonaktif, '') not in ('MENUNGGAK', 'PBI_DINONAKTIFKAN')
        )::bigint as deactivated_other
    from flagged
    group by region_level, region_code, segment
),

untracked as (
    select l.region_level, l.region_code, c.segment, count(*)::bigint as cards_untracked
    from intermediate.card_state as c
    inner join int_region_levels as l on l.region_digits = c.region_digits
    where c.period = $period and c.noka is null
    group by all
),

names as (
    select distinct region_level, region_code, region_name from int_region_levels
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
        jkn_flow(f.cards_start, $previous_period) as cards_start,
        jkn_flow(f.cards_new, $previous_period) as cards_new,
        jkn_flow(f.cards_ended, $previous_period) as cards_ended,
        jkn_flow(f.cards_moved_in, $previous_period) as cards_moved_in,
        jkn_flow(f.cards_moved_out, $previous_period) as cards_moved_out,
        coalesce(f.cards_end, 0) as cards_end,
        coalesce(u.cards_untracked, 0) as cards_untracked,
        jkn_flow(f.activated, $previous_period) as activated,
        jkn_flow(f.deactivated_arrears, $previous_period) as deactivated_arrears,
        jkn_flow(f.deactivated_pbi, $previous_period) as deactivated_pbi,
        jkn_flow(f.deactivated_other, $previous_period) as deactivated_other,
        jkn_flow(f.new_active, $previous_period) as new_active
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
