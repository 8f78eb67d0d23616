-- name:    int_pbi_persons (temp)
-- grain:   one row per person on the PBI list × level of the list's region, plus one row per
--          person with a valid PBI card who is on no list × level of the card's region
-- columns: region_level, region_code, region_name, person_key, category (first that holds:
--          listed_deceased, listed_active_pbi, listed_inactive_pbi, listed_paying_segment,
--          listed_not_member; or pbi_not_listed). Identity columns are joined by the list model.
create or replace temp table int_pbi_persons as
with cards as (
    select
        b.person_key,
        bool_or(s.is_pbi and b.is_active) as active_pbi,
        bool_or(s.is_pbi) as any_pbi
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment
    where not b.quarantined
    group by b.person_key
),

deceased as (
    select distinct nik from int_dukcapil_rows where nik_intact and status = 'MATI'
),

listed as (
    select
        l.person_key,
        l.region_digits,
        case
            when d.nik is not null then 'listed_deceased'
            when c.active_pbi then 'listed_active_pbi'
            when c.any_pbi then 'listed_inactive_pbi'
            when c.person_key is not null then 'listed_paying_segment'
            else 'listed_not_member'
        end as category
    from int_dinsos_persons as l
    left join cards as c on c.person_key = l.person_key
    left join deceased as d on d.nik = l.person_key
),

on_a_list as (
    -- everyone the list names, its quarantined rows included (a row quarantined for, say, an
    -- out-of-range DESIL still puts the person on the list)
    select person_key from int_dinsos_persons
    union
    select nik
    from staging.quarantined_dinsos_pbi
    where period = $period
      and regexp_full_match(coalesce(nik, ''), '\d{16}')
),

not_listed as (
    select distinct b.person_key, b.region_digits, 'pbi_not_listed' as category
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment and s.is_pbi
    anti join on_a_list as l on l.person_key = b.person_key
    where not b.quarantined
),

final as (
    -- a person holding PBI cards in two villages of one kecamatan counts once there
    select distinct l.region_level, l.region_code, l.region_name, p.person_key, p.category
    from (select * from listed union all select * from not_listed) as p
    inner join int_region_levels as l on l.region_digits = p.region_digits
)

select * from final
