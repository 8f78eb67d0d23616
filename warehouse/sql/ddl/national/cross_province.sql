-- name:    marts.cross_province (national marts file)
-- grain:   one row per period × province, and one national row (region_code 'ID')
-- columns: period, region_code, region_level, region_name,
--          persons_carded_elsewhere_too (province: persons holding a valid card here and one in
--          another province; national: persons holding valid cards in two or more provinces,
--          each counted once), residents_in_several_provinces (persons Dukcapil lists alive in
--          this province and in another; national: each once), double_funding_persons (within
--          the province: its marts.double_funding province row), cross_province_double_funding
--          (persons holding a valid PBI_APBD card in the province, no PBI_APBN or PPU_* card in
--          it, and one in another province; counted in the province of the APBD card, and
--          summed so nationally), premium_idr (the PBI premium in force), double_funding_cost_idr
--          and cross_province_double_funding_cost_idr (persons × premium_idr, monthly)
-- Counts only. The persons are found by the NIK exchange of jkn.national (hash partitions).
create schema if not exists marts;
create table if not exists marts.cross_province (
    period                                 date not null,
    region_code                            varchar not null,
    region_level                           varchar not null,
    region_name                            varchar,
    persons_carded_elsewhere_too           bigint not null,
    residents_in_several_provinces         bigint not null,
    double_funding_persons                 bigint not null,
    cross_province_double_funding          bigint not null,
    premium_idr                            bigint not null,
    double_funding_cost_idr                bigint not null,
    cross_province_double_funding_cost_idr bigint not null
);
