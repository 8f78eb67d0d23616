-- name:    marts.card_movements
-- grain:   one row per period × region (every level) × segment with BPJS rows in either month
-- columns: period, region_code, region_level, region_name, segment (activity_by_segment's: the
--          current code, UNKNOWN for codes not in the list; the card's this period, for
--          cards_ended last period's), previous_period (the month before; null when it was never
--          published), previous_published, cards_start, cards_new, cards_ended, cards_moved_in,
--          cards_moved_out, cards_end, cards_untracked, activated, deactivated_arrears,
--          deactivated_pbi, deactivated_other, new_active
-- Identities (checked before publishing): cards_start + cards_new − cards_ended +
-- cards_moved_in − cards_moved_out = cards_end; cards_end + cards_untracked = registered of
-- activity_by_segment (same period, region and segment). Counts only.
create schema if not exists marts;
create table if not exists marts.card_movements (
    period              date not null,
    region_code         varchar not null,
    region_level        varchar not null,
    region_name         varchar,
    segment             varchar not null,
    previous_period     date,
    previous_published  boolean not null,
    cards_start         bigint,
    cards_new           bigint,
    cards_ended         bigint,
    cards_moved_in      bigint,
    cards_moved_out     bigint,
    cards_end           bigint not null,
    cards_untracked     bigint not null,
    activated           bigint,
    deactivated_arrears bigint,
    deactivated_pbi     bigint,
    deactivated_other   bigint,
    new_active          bigint
);
