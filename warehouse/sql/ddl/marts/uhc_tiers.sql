-- name:    marts.uhc_tiers
-- grain:   one row per period × kabupaten/kota (and province) × award tier in force
--          (warehouse/rules/uhc_tiers.csv: pratama, madya, utama from 2026-01-01; no rows in a
--          period without a tier rule)
-- columns: period, region_code, region_level, region_name, tier, rule_id, min_coverage,
--          min_activity, min_pemda_share (NULL: the tier has no Pemda-share condition),
--          coverage_registered, activity_of_population, pemda_share (valid PBI_APBD
--          memberships / population), pemda_arrears_cards (valid PBI_APBD memberships with
--          BULAN_TUNGGAKAN > 0, active or not: shown, they bar UHC Prioritas, not a tier),
--          meets_tier (coverage, activity and, where set, Pemda share), residents_to_enrol
--          (max(0, ceil(min_coverage × population) − registered)), activations_needed
--          (max(0, ceil(min_activity × population) − active_registered)),
--          pemda_enrolments_needed (max(0, ceil(min_pemda_share × population) − valid PBI_APBD
--          memberships); 0 without a share condition). Ceilings are exact (no binary rounding).
create schema if not exists marts;
create table if not exists marts.uhc_tiers (
    period                  date not null,
    region_code             varchar not null,
    region_level            varchar not null,
    region_name             varchar,
    tier                    varchar not null,
    rule_id                 varchar not null,
    min_coverage            double not null,
    min_activity            double not null,
    min_pemda_share         double,
    coverage_registered     double,
    activity_of_population  double,
    pemda_share             double,
    pemda_arrears_cards     bigint not null,
    meets_tier              boolean not null,
    residents_to_enrol      bigint not null,
    activations_needed      bigint not null,
    pemda_enrolments_needed bigint not null
);
