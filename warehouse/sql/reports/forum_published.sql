-- name:    forum_published (report: the footer)
-- grain:   one row per source for $period
-- columns: published_at, code_version, rules_version, region_list, population_snapshot,
--          source, file_name, sha256, bytes, received_at, rows_received
-- Reads the published marts only (published, published_files).
select p.published_at, p.code_version, p.rules_version, p.region_list, p.population_snapshot,
    f.source, f.file_name, f.sha256, f.bytes, f.received_at, f.rows_received
from marts.published as p
inner join marts.published_files as f using (period)
where p.period = $period
order by f.source
