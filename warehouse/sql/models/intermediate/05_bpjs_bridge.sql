-- name:    int_bpjs_bridge (temp)
-- grain:   one row per BPJS row as delivered × region level where it is registered
-- columns: line, quarantined, region_level, region_code, region_name, segment, is_active,
--          ket_nonaktif, person_key, category (the coverage bridge, DOMAIN.md's order:
--          quarantined → duplicate → deceased → moved_out → domiciled_elsewhere →
--          not_in_population → resident), dukcapil_region_digits (where Dukcapil domiciles
--          the person). Identity columns stay in int_bpjs_rows (join on line): this table has
--          a row per level and is kept narrow.
-- The card kept for a person in a region is an active one where there is one (then the first
-- in the file); the person's other cards there are duplicates.
create or replace temp table int_bpjs_bridge as
with dukcapil as (
    -- every Dukcapil record whose NIK reads, quarantined or not (a record quarantined for,
    -- say, an unreadable birth date still says who is alive, dead or gone); loaded ones first
    select nik, status, region_digits
    from int_dukcapil_rows
    where nik_intact
    qualify row_number() over (partition by nik order by quarantined, line) = 1
),

shared as (
    select person_key
    from int_bpjs_rows
    where not quarantined
    group by person_key
    having count(*) > 1
),

cards as (
    -- Dukcapil's word on each card's person, looked up once per card (not once per level)
    select
        b.line,
        b.quarantined,
        b.segment,
        b.is_active,
        b.ket_nonaktif,
        b.person_key,
        b.region_digits,
        -- only a person with several loaded cards can have a duplicate among them
        b.person_key in (select person_key from shared) as shared,
        d.nik is not null as in_dukcapil,
        d.status,
        d.region_digits as dukcapil_region_digits
    from int_bpjs_rows as b
    left join dukcapil as d on d.nik = b.person_key
),

placed as (
    select
        c.* exclude (region_digits),
        l.region_level,
        l.region_code,
        l.region_name
    from cards as c
    inner join int_region_levels as l on l.region_digits = c.region_digits
),

ranked as (
    -- the window sorts only the cards of persons holding several (a few percent)
    select
        *,
        row_number() over (
            partition by region_level, region_code, person_key order by is_active desc, line
        ) as nth
    from placed
    where not quarantined and shared
    union all
    select
        *,
        case when quarantined then null else 1 end as nth
    from placed
    where quarantined or not coalesce(shared, false)
),

final as (
    select
        line,
        quarantined,
        segment,
        is_active,
        ket_nonaktif,
        person_key,
        region_level,
        region_code,
        region_name,
        case
            when quarantined then 'quarantined'
            when nth > 1 then 'duplicate'
            when status = 'MATI' then 'deceased'
            when status = 'PINDAH' then 'moved_out'
            -- a record with a status Dukcapil does not use places the person nowhere
            when not in_dukcapil or status is distinct from 'HIDUP' then 'not_in_population'
            -- alive, but not (readably) domiciled here: not in this region's population
            when not coalesce(starts_with(dukcapil_region_digits, replace(region_code, '.', '')), false)
                then 'domiciled_elsewhere'
            else 'resident'
        end as category,
        dukcapil_region_digits
    from ranked
)

select * from final
