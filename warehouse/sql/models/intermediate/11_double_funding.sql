-- name:    int_double_funding (temp)
-- grain:   one row per person × level of a region where the person holds a valid PBI_APBD card,
--          for persons who also hold a valid PBI_APBN or PPU_* card (anywhere)
-- columns: person_key, nik, nama, region_level, region_code, region_name, apbd_nokas,
--          other_segments, other_nokas
create or replace temp table int_double_funding as
with apbd as (
    -- the valid cards the Pemda pays for (rules/segments.csv: the APBD's segment)
    select b.*
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment and s.is_apbd
    where not b.quarantined
),

other_cover as (
    -- of the persons holding one (not of every member)
    select
        b.person_key,
        list(distinct b.segment order by b.segment) as other_segments,
        list(b.noka order by b.noka) as other_nokas
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment
    -- rules/segments.csv: cover already paid for, by the national budget (a PBI segment
    -- not the APBD's) or by an employer (PPU)
    where not b.quarantined and ((s.is_pbi and not s.is_apbd) or s.is_ppu)
        and b.person_key in (select person_key from apbd)
    group by b.person_key
),

final as (
    -- only the PBI_APBD cards of persons paid for twice meet the region levels
    select
        r.person_key,
        -- the person's NIK: Dukcapil's where the card was linked to a person
        case
            when regexp_full_match(r.person_key, '\d{16}') then r.person_key
            else any_value(r.nik)
        end as nik,
        any_value(r.nama) as nama,
        l.region_level,
        l.region_code,
        any_value(l.region_name) as region_name,
        list(r.noka order by r.noka) as apbd_nokas,
        any_value(o.other_segments) as other_segments,
        any_value(o.other_nokas) as other_nokas
    from apbd as r
    inner join other_cover as o on o.person_key = r.person_key
    inner join int_region_levels as l on l.region_digits = r.region_digits
    group by r.person_key, l.region_level, l.region_code
)

select * from final
