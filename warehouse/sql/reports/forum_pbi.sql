-- name:    forum_pbi (report)
-- grain:   one row per kabupaten/kota and province × PBI reconciliation category for $period
-- columns: region_code, category, category_order, persons
-- Reads the published marts only (pbi_reconciliation).
select region_code, category, category_order, persons
from marts.pbi_reconciliation
where period = $period and region_level in ('province', 'kabupaten')
order by region_code, category_order
