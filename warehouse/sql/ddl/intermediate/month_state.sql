-- name:    intermediate.card_state
-- grain:   one row per period × BPJS row as delivered (loaded or quarantined) that the marts
--          count in `registered` (as int_bpjs_rows: records the parser could not split are not)
-- columns: period, line, noka (the NOKA when it reads as 13 digits: the card is tracked; null:
--          untracked), region_digits (KODE_WILAYAH, undotted, as delivered), segment (current
--          code, UNKNOWN when not in the list), is_active, ket_nonaktif
-- What marts.card_movements compares between two months; kept for every published period so
-- that a month published late, or again, recomputes the movements of the month after it.
create schema if not exists intermediate;
create table if not exists intermediate.card_state (
    period        date not null,
    line          bigint not null,
    noka          varchar,
    region_digits varchar,
    segment       varchar not null,
    is_active     boolean not null,
    ket_nonaktif  varchar
);

-- name:    intermediate.resident_state
-- grain:   one row per period × resident (marts.coverage's population: Dukcapil HIDUP records as
--          delivered, quarantined included, less repeats of a NIK)
-- columns: period, nik (when it reads as 16 digits: the resident can be followed across months;
--          null: cannot), region_digits (domicile village, undotted), covered (holds a valid
--          membership: counted in covered_residents), active (counted in active_residents)
-- What marts.resident_movements compares between two months.
create table if not exists intermediate.resident_state (
    period        date not null,
    nik           varchar,
    region_digits varchar,
    covered       boolean not null,
    active        boolean not null
);
