-- name:    jkn_flow (temp macro): a movement count as the movement marts publish it
-- takes:   the count (NULL: nothing in the region contributed to it), and $previous_period
--          (the month before when it was published, else NULL)
-- The one reading of "the flow columns are null when the month before was never published"
-- (marts.card_movements, marts.resident_movements): NULL then, else the count, 0 for none.
create or replace temp macro jkn_flow(n, previous_period) as
    case when previous_period is not null then coalesce(n, 0) end
