-- name:    completed_years (temp macro; warehouse.build.load_reference defines it)
-- The age in completed years of a person born on `born` at the end of the day `on_day`: the
-- years between them, less one if the birthday of `on_day`'s year is still to come. A
-- leap-day birth (29 February) has its birthday on 1 March in a common year: on 28 February
-- 2025 a child born on 29 February 2020 is 4, on 1 March 2025 5. Negative when `born` is after
-- `on_day` (the caller decides what that means); NULL when either is NULL.
create or replace temp macro completed_years(born, on_day) as
    year(on_day) - year(born)
    - case
        when month(on_day) < month(born)
            or (month(on_day) = month(born) and day(on_day) < day(born))
        then 1
        else 0
    end;
