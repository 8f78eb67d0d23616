-- name:    m_coverage_pemda (build; not published): each kab/kota's and province's coverage
--          row with its Pemda memberships
-- grain:   one row per kabupaten/kota and per province this period (m_coverage)
-- columns: those of marts.coverage, and pemda_cards (valid PBI_APBD memberships) and
--          pemda_arrears_cards (those with BULAN_TUNGGAKAN > 0, active or not), from
--          int_pemda_cards, 0 where a region has none. The one place the two meet: the UHC
--          verdict (UHC Prioritas: no arrears) and the award tiers (the Pemda share) read it.
select
    c.*,
    coalesce(p.pemda_cards, 0) as pemda_cards,
    coalesce(p.pemda_arrears_cards, 0) as pemda_arrears_cards
from m_coverage as c
left join int_pemda_cards as p
    on p.region_level = c.region_level and p.region_code = c.region_code
where c.region_level in ('province', 'kabupaten')
