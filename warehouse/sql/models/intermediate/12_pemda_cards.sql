-- name:    int_pemda_cards (temp)
-- grain:   one row per region (every level) where a valid (loaded) PBI_APBD membership is
--          registered this period (BPJS's KODE_WILAYAH)
-- columns: region_level, region_code, pemda_cards (valid PBI_APBD memberships, rows, active
--          or not: the numerator of pemda_share), pemda_arrears_cards (of those, the ones with
--          BULAN_TUNGGAKAN > 0: arrears on the Pemda's own contributions, which bar UHC
--          Prioritas; a missing BULAN_TUNGGAKAN is no arrears)
-- Counted once per village code and rolled up through int_region_levels.
create or replace temp table int_pemda_cards as
with villages as (
    -- rules/segments.csv: the segment the Pemda pays for (is_apbd)
    select
        b.region_digits,
        count(*) as pemda_cards,
        count(*) filter (where b.bulan_tunggakan > 0) as pemda_arrears_cards
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment and s.is_apbd
    where not b.quarantined
    group by b.region_digits
),

final as (
    select
        l.region_level,
        l.region_code,
        sum(v.pemda_cards)::bigint as pemda_cards,
        sum(v.pemda_arrears_cards)::bigint as pemda_arrears_cards
    from villages as v
    inner join int_region_levels as l on l.region_digits = v.region_digits
    group by all
)

select * from final
