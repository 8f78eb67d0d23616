-- name:    national_region (table macro): the national row's region, its one home
-- returns: one row — region_code 'ID', region_level 'national', region_name 'Indonesia' — that
--          the national marts (marts.national_coverage, marts.cross_province) give the row
--          summing their provinces
create or replace temp macro national_region() as table
select 'ID' as region_code, 'national' as region_level, 'Indonesia' as region_name
