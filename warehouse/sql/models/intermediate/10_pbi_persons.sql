-- name:    int_pbi_persons (temp)
-- grain:   one row per person on the PBI list (at the list's village code), plus one row per
--          person with a valid PBI card who is on no list × village code of such a card
-- columns: person_key, region_digits, category (first that holds: listed_deceased,
--          listed_active_pbi, listed_inactive_pbi, listed_paying_segment, listed_not_member; or
--          pbi_not_listed), villages (how many village codes the person has here: 1 for a
--          listing; a person holding PBI cards in two villages of one kecamatan counts once
--          there, so only such a person is counted region by region). Identity columns are
--          joined by the list model.
create or replace temp table int_pbi_persons as
with deceased as (
    select distinct nik from int_dukcapil_rows where nik_intact and status = 'MATI'
),

listed as (
    select
        l.person_key,
        l.region_digits,
        case
            when d.nik is not null then 'listed_deceased'
            when c.has_active_pbi_card then 'listed_active_pbi'
            when c.has_pbi_card then 'listed_inactive_pbi'
            when c.person_key is not null then 'listed_paying_segment'
            else 'listed_not_member'
        end as category
    from int_dinsos_persons as l
    left join int_bpjs_persons as c on c.person_key = l.person_key
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
    select distinct b.person_key, b.region_digits
    from int_bpjs_rows as b
    inner join ref.segments as s on s.segment = b.segment and s.is_pbi
    anti join on_a_list as l on l.person_key = b.person_key
    where not b.quarantined
),

final as (
    select person_key, region_digits, category, 1 as villages
    from listed
    union all
    select
        person_key,
        region_digits,
        'pbi_not_listed' as category,
        count(*) over (partition by person_key) as villages
    from not_listed
)

select * from final
