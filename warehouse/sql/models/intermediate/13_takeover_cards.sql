-- name:    int_takeover_cards (temp)
-- grain:   one row per valid (loaded) BPJS membership that makes its holder a takeover
--          candidate this period: an inactive membership of a segment a Pemda may take over
--          (rules/takeover_segments.csv: PBPU, PPU_BU) in arrears (BULAN_TUNGGAKAN > 0), held
--          by a person on the Dinsos list in a decile PBI covers (rules/pbi_eligibility.csv:
--          1–5, the first valid listing's DESIL) who holds no active PBI membership anywhere
-- columns: line, person_key, noka, segment, arrears_months (the card's BULAN_TUNGGAKAN),
--          region_digits (the card's village code as BPJS holds it: a candidate is placed
--          where the inactive card counts against activity), nik (the person's NIK: Dukcapil's
--          where the listing was linked to a person, else the list's), nama (the list's),
--          desil
-- The takeover mart and the officers' list both read this table.
create or replace temp table int_takeover_cards as
with eligibility as (
    select max_decile
    from ref.pbi_eligibility
    where in_force(valid_from, valid_to, $period)
),

listed as (
    select l.person_key, l.nik, l.nama, l.desil
    from int_dinsos_persons as l
    inner join eligibility as e on l.desil <= e.max_decile
),

final as (
    select
        b.line,
        b.person_key,
        b.noka,
        b.segment,
        b.bulan_tunggakan as arrears_months,
        b.region_digits,
        case
            when regexp_full_match(b.person_key, '\d{16}') then b.person_key else l.nik
        end as nik,
        l.nama,
        l.desil
    from int_bpjs_rows as b
    inner join ref.takeover_segments as t on t.segment = b.segment
    inner join listed as l on l.person_key = b.person_key
    left join int_bpjs_persons as p on p.person_key = b.person_key
    where not b.quarantined
        and not b.is_active
        and b.bulan_tunggakan > 0
        and not coalesce(p.has_active_pbi_card, false)
)

select * from final
