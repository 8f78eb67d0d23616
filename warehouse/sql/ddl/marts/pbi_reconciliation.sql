-- name:    marts.pbi_reconciliation
-- grain:   one row per period × region × category (all six categories, zero included)
-- columns: period, region_code, region_level, region_name, category (listed_deceased,
--          listed_active_pbi, listed_inactive_pbi, listed_paying_segment, listed_not_member,
--          pbi_not_listed), category_order, persons
-- Persons on the Dinsos list (valid rows, region from the list) each in the first category
-- that holds; pbi_not_listed: persons with a valid PBI card in the region (BPJS's code) who
-- are on no list.
create schema if not exists marts;
create table if not exists marts.pbi_reconciliation (
    period         date not null,
    region_code    varchar not null,
    region_level   varchar not null,
    region_name    varchar,
    category       varchar not null,
    category_order tinyint not null,
    persons        bigint not null
);
