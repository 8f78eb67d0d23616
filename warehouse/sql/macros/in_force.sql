-- name:    in_force (macro): is a rule version in force at a period?
-- takes:   valid_from, valid_to (null: still in force) of a row of warehouse/rules/*.csv, and
--          the period (its first day)
-- The one reading of every rules file's validity columns: from valid_from to valid_to, both
-- inclusive.
create or replace temp macro in_force(valid_from, valid_to, period) as
    valid_from <= period and (valid_to is null or valid_to >= period)
