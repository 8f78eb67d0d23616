-- name:    jkn_goal_bar (temp macro; every connection to the published marts defines it,
--          jkn.databases.open_marts_read_only)
-- takes:   a goal's thresholds: min_coverage, min_activity, min_pemda_share (NULL: none)
-- The one reading of "how demanding a goal is", which orders the goals of one kind in the
-- report queries (the tiers from the lowest: pratama, madya, utama; the targets from the
-- nearest) and names the highest tier met.
create or replace temp macro jkn_goal_bar(min_coverage, min_activity, min_pemda_share) as
    coalesce(min_coverage, 0) + coalesce(min_activity, 0) + coalesce(min_pemda_share, 0)
