-- name:    forum_quality (report)
-- grain:   one row per source for $period
-- columns: source, rows_received, rows_loaded, rows_quarantined, rows_flagged (rows of the
--          warning checks, a row counted once per check), top_reasons (list of structs
--          check, rows: the three checks quarantining most rows)
-- Reads the published marts only (data_quality).
with totals as (
    select source, any_value(rows_received) as rows_received,
        any_value(rows_loaded) as rows_loaded, any_value(rows_quarantined) as rows_quarantined,
        cast(coalesce(sum("rows") filter (where severity = 'warning'), 0) as bigint)
            as rows_flagged
    from marts.data_quality
    where period = $period
    group by source
),

reasons as (
    select source, list({'check': "check", 'rows': "rows"} order by "rows" desc, "check")
        filter (where severity = 'error' and "rows" > 0) as top_reasons
    from marts.data_quality
    where period = $period
    group by source
)

select t.*, coalesce(r.top_reasons[1:3], []) as top_reasons
from totals as t
left join reasons as r using (source)
order by t.source
