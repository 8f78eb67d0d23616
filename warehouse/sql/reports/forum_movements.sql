-- name:    forum_movements (report)
-- grain:   one row per kabupaten/kota and province for $period
-- columns: region_code, previous_period, previous_published, cards_start, cards_new,
--          cards_ended, cards_moved_in, cards_moved_out, cards_end, activated,
--          deactivated_arrears, deactivated_pbi, deactivated_other, new_active,
--          residents_start, residents_end, newly_covered, lost_coverage, newly_active, lapsed
-- Reads the published marts only (card_movements summed over segments, resident_movements).
-- The flow columns are null when the month before was not published.
with cards as (
    select
        region_code,
        any_value(previous_period) as previous_period,
        bool_or(previous_published) as previous_published,
        cast(sum(cards_start) as bigint) as cards_start,
        cast(sum(cards_new) as bigint) as cards_new,
        cast(sum(cards_ended) as bigint) as cards_ended,
        cast(sum(cards_moved_in) as bigint) as cards_moved_in,
        cast(sum(cards_moved_out) as bigint) as cards_moved_out,
        cast(sum(cards_end) as bigint) as cards_end,
        cast(sum(activated) as bigint) as activated,
        cast(sum(deactivated_arrears) as bigint) as deactivated_arrears,
        cast(sum(deactivated_pbi) as bigint) as deactivated_pbi,
        cast(sum(deactivated_other) as bigint) as deactivated_other,
        cast(sum(new_active) as bigint) as new_active
    from marts.card_movements
    where period = $period and region_level in ('province', 'kabupaten')
    group by region_code
)

select
    r.region_code,
    coalesce(c.previous_period, r.previous_period) as previous_period,
    r.previous_published,
    c.* exclude (region_code, previous_period, previous_published),
    r.residents_start,
    r.residents_end,
    r.newly_covered,
    r.lost_coverage,
    r.newly_active,
    r.lapsed
from marts.resident_movements as r
left join cards as c using (region_code)
where r.period = $period and r.region_level in ('province', 'kabupaten')
order by r.region_code
