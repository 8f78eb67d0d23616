-- name:    forum_segments (report)
-- grain:   one row per kabupaten/kota and province × segment for $period
-- columns: region_code, segment, registered, active, inactive, activity_of_registered,
--          inactive_arrears, inactive_pbi_deactivated, inactive_other
-- Reads the published marts only (activity_by_segment), largest segment first.
select region_code, segment, registered, active, inactive, activity_of_registered,
    inactive_arrears, inactive_pbi_deactivated, inactive_other
from marts.activity_by_segment
where period = $period and region_level in ('province', 'kabupaten')
order by region_code, registered desc, segment
