-- name:    national exchange: one province's persons (run on its restricted file)
-- grain:   one row per person with a NIK: Dukcapil's (a living record of this extract) or one
--          written on a valid card of this province's BPJS extract
-- columns: person (md5 of the run's salt and the NIK: the NIK itself never leaves the restricted
--          file), part (bucket of the person: the hash's first 32 bits mod $partitions), resident (a loaded
--          Dukcapil record HIDUP), carded (holds a valid card here), apbd (a valid PBI_APBD card),
--          other_cover (a valid PBI_APBN or PPU_* card: rules/segments.csv)
-- A card's person is the NIK its row resolved to (intermediate.row_person) or, for a person
-- Dukcapil does not know, the NIK written on it; cards without any NIK cannot be matched
-- across provinces and are left out.
with cards as (
    select
        case
            when regexp_full_match(p.person_key, '\d{16}') then p.person_key
            else s.nik
        end as nik,
        coalesce(g.is_apbd, false) as apbd,
        coalesce((g.is_pbi and not g.is_apbd) or g.is_ppu, false) as other_cover
    from staging.bpjs_membership as s
    inner join intermediate.row_person as p
        on p.period = s.period and p.source = 'bpjs_membership' and p.line = s.line
    left join ref.segments as g on g.segment = s.segmen
    where s.period = $period
),

residents as (
    select distinct nik from staging.dukcapil where period = $period and status = 'HIDUP'
),

persons as (
    select
        nik,
        bool_or(resident) as resident,
        bool_or(carded) as carded,
        bool_or(apbd) as apbd,
        bool_or(other_cover) as other_cover
    from (
        select nik, false as resident, true as carded, apbd, other_cover
        from cards where nik is not null
        union all
        select nik, true, false, false, false from residents
    )
    group by nik
),

hashed as (
    select md5($salt || nik) as person, resident, carded, apbd, other_cover from persons
),

final as (
    select
        person,
        -- the bucket: the hash's first 32 bits (md5_number is many times slower)
        (('0x' || left(person, 8))::ubigint % $partitions)::integer as part,
        resident,
        carded,
        apbd,
        other_cover
    from hashed
)

select * from final
