-- name:    marts.uhc_status
-- grain:   one row per period × kabupaten/kota and per period × province
-- columns: period, region_code, region_level, region_name, rule_id (the rule version in force
--          at the period), rule_source, min_coverage, min_activity (NULL: the rule has none),
--          activity_definition, population, registered, active_registered,
--          coverage_registered, activity_of_population, meets_coverage, meets_activity,
--          meets_uhc, residents_to_enrol, activations_needed; on reconciled figures:
--          covered_residents, active_residents, coverage_reconciled, activity_reconciled,
--          meets_uhc_reconciled, residents_to_enrol_reconciled, activations_needed_reconciled;
--          population_snapshot; subregions_with_data / subregions_in_list (a province's verdict
--          built from part of its kab/kota says so)
create schema if not exists marts;
create table if not exists marts.uhc_status (
    period                        date not null,
    region_code                   varchar not null,
    region_level                  varchar not null,
    region_name                   varchar,
    rule_id                       varchar,
    rule_source                   varchar,
    min_coverage                  double,
    min_activity                  double,
    activity_definition           varchar,
    population                    bigint not null,
    registered                    bigint not null,
    active_registered             bigint not null,
    coverage_registered           double,
    activity_of_population        double,
    meets_coverage                boolean,
    meets_activity                boolean,
    meets_uhc                     boolean,
    residents_to_enrol            bigint,
    activations_needed            bigint,
    covered_residents             bigint not null,
    active_residents              bigint not null,
    coverage_reconciled           double,
    activity_reconciled           double,
    meets_uhc_reconciled          boolean,
    residents_to_enrol_reconciled bigint,
    activations_needed_reconciled bigint,
    population_snapshot           varchar not null
);
alter table marts.uhc_status add column if not exists subregions_with_data bigint;
alter table marts.uhc_status add column if not exists subregions_in_list bigint;
-- Added in the second release: pemda_arrears_cards (valid PBI_APBD memberships with
-- BULAN_TUNGGAKAN > 0, active or not, by BPJS's KODE_WILAYAH), meets_uhc_prioritas (meets_uhc
-- and no Pemda arrears, under a rule that defines UHC Prioritas — from 2025; NULL before)
alter table marts.uhc_status add column if not exists pemda_arrears_cards bigint;
alter table marts.uhc_status add column if not exists meets_uhc_prioritas boolean;
