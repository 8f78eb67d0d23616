-- name:    at_levels (table macro): what moved between two months, placed at every level
-- takes:   the name of a relation (a CTE will do) with columns digits_before and digits_now,
--          a village code in each month (undotted; null where absent that month)
-- returns: its rows × every region level, with code_before and code_now, the region at that
--          level of each month's code (int_region_levels; null where it cannot be placed)
-- The movement marts (card_movements, resident_movements) compare the two codes level by
-- level: a move between two villages of one kecamatan is a move at village level only.
create or replace temp macro at_levels(transitions) as table
select
    v.region_level,
    t.*,
    b.region_code as code_before,
    n.region_code as code_now
from query_table(transitions) as t
cross join (select distinct region_level from int_region_levels) as v
left join int_region_levels as b
    on b.region_digits = t.digits_before and b.region_level = v.region_level
left join int_region_levels as n
    on n.region_digits = t.digits_now and n.region_level = v.region_level
