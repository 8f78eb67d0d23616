-- name:    marts.double_funding
-- grain:   one row per period × region (regions with a valid PBI_APBD card)
-- columns: period, region_code, region_level, region_name, persons (holding a valid PBI_APBD
--          card in the region and a valid PBI_APBN or PPU_* card anywhere), premium_idr (the PBI
--          premium in force at the period), monthly_cost_idr (persons × premium_idr)
create schema if not exists marts;
create table if not exists marts.double_funding (
    period           date not null,
    region_code      varchar not null,
    region_level     varchar not null,
    region_name      varchar,
    persons          bigint not null,
    premium_idr      bigint not null,
    monthly_cost_idr bigint not null
);
