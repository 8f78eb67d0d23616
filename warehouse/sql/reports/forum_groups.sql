-- name:    forum_groups (report)
-- grain:   one row per kabupaten/kota × sex × age band for $period (the mart has no
--          province rows)
-- columns: region_code, sex, age_band, population, covered_residents, active_residents,
--          coverage_reconciled, activity_reconciled
-- Reads the published marts only (coverage_by_group), in the mart's order (bands in order).
select region_code, sex, age_band, population, covered_residents, active_residents,
    coverage_reconciled, activity_reconciled
from marts.coverage_by_group
where period = $period and region_level in ('province', 'kabupaten')
