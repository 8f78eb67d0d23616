-- name:    marts.resident_movements
-- grain:   one row per period × region (every level) with residents in either month
-- columns: period, region_code, region_level, region_name, previous_period (null when the month
--          before was never published), previous_published, residents_start, residents_entered,
--          residents_left, residents_end (= population of the two months), covered_start,
--          newly_covered, lost_coverage, covered_entered, covered_left, covered_end
--          (= covered_residents), active_start, newly_active, lapsed, active_entered,
--          active_left, active_end (= active_residents)
-- Identities (checked before publishing): residents_start + residents_entered − residents_left
-- = residents_end; covered_start + newly_covered − lost_coverage + covered_entered −
-- covered_left = covered_end; likewise active. Counts only.
create schema if not exists marts;
create table if not exists marts.resident_movements (
    period             date not null,
    region_code        varchar not null,
    region_level       varchar not null,
    region_name        varchar,
    previous_period    date,
    previous_published boolean not null,
    residents_start    bigint,
    residents_entered  bigint,
    residents_left     bigint,
    residents_end      bigint not null,
    covered_start      bigint,
    newly_covered      bigint,
    lost_coverage      bigint,
    covered_entered    bigint,
    covered_left       bigint,
    covered_end        bigint not null,
    active_start       bigint,
    newly_active       bigint,
    lapsed             bigint,
    active_entered     bigint,
    active_left        bigint,
    active_end         bigint not null
);
