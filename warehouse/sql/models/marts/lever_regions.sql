-- name:    m_lever_regions (build; not published): the regions the levers' marts publish
-- grain:   one row per kabupaten/kota and per kecamatan this period (every one of
--          marts.coverage at those levels: a region with no one in it has its zero row)
-- columns: region_level, region_code, region_name
-- The one home of the levels marts.takeover_candidates and marts.pbi_eligibility_drift are
-- published at: a lever is pulled by the kab/kota and aimed by kecamatan.
select region_level, region_code, region_name
from m_coverage
where region_level in ('kabupaten', 'kecamatan')
