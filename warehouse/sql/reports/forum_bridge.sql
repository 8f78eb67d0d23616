-- name:    forum_bridge (report)
-- grain:   one row per kabupaten/kota and province × bridge category for $period
-- columns: region_code, category, category_order, rows
-- Reads the published marts only (coverage_bridge): the rows of the categories add up to
-- registered; the waterfall runs from registered down to resident.
select region_code, category, category_order, "rows"
from marts.coverage_bridge
where period = $period and region_level in ('province', 'kabupaten')
order by region_code, category_order
