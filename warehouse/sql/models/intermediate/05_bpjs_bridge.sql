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

placed as (
    select
        b.line,
        b.quarantined,
        b.segment,
        b.is_active,
        b.ket_nonaktif,
        b.person_key,
        l.region_level,
        l.region_code,
        l.region_name
    from int_bpjs_rows as b
    inner join int_region_levels as l on l.region_digits = b.region_digits
),

ranked as (
    select
        *,
        case
            when quarantined then null
            else row_number() over (
                partition by region_level, region_code, person_key, quarantined
                order by is_active desc, line
            )
        end as nth
    from placed
),

final as (
    select
        r.* exclude (nth),
        case
            when r.quarantined then 'quarantined'
            when r.nth > 1 then 'duplicate'
            when d.status = 'MATI' then 'deceased'
            when d.status = 'PINDAH' then 'moved_out'
            -- a record with a status Dukcapil does not use places the person nowhere
            when d.nik is null or d.status is distinct from 'HIDUP' then 'not_in_population'
            -- alive, but not (readably) domiciled here: not in this region's population
            when not coalesce(starts_with(d.region_digits, replace(r.region_code, '.', '')), false)
                then 'domiciled_elsewhere'
            else 'resident'
        end as category,
        d.region_digits as dukcapil_region_digits
    from ranked as r
    left join dukcapil as d on d.nik = r.person_key
)

select * from final
