-- name:    link_candidates (temp) — block: which pairs are worth scoring
-- grain:   one row per (record, Dukcapil person) pair proposed by at least one blocking rule
-- columns: rec_id, nik (the person's), rules (the blocking rules that proposed the pair)
-- Rules: same birth date and sex in the kab/kota; the same with day and month swapped; two of
-- the NIK's three parts (region PPKKCC, date DDMMYY, serial SSSS) equal — one typo leaves two
-- intact; same normalised name in the kab/kota, or anywhere with the same birth date; same
-- village, sex and first two letters of the name (a typo in both name and date). Work grows
-- with records × bucket size, not records × people.
create or replace temp table link_candidates as
with records as (
    select
        *,
        jkn_swap_day_month(dob) as dob_swapped
    from link_records
),

proposed as (
    select r.rec_id, p.nik, 'dob_sex_kabupaten' as rule
    from records as r
    inner join link_people as p
        on p.dob = r.dob and p.sex = r.sex and p.kabupaten = r.kabupaten
    union all
    select r.rec_id, p.nik, 'dob_swapped_sex_kabupaten'
    from records as r
    inner join link_people as p
        on p.dob = r.dob_swapped and p.sex = r.sex and p.kabupaten = r.kabupaten
    union all
    select r.rec_id, p.nik, 'nik_region_date'
    from records as r
    inner join link_people as p on left(p.nik, 12) = left(r.nik, 12)
    union all
    select r.rec_id, p.nik, 'nik_region_serial'
    from records as r
    inner join link_people as p
        on left(p.nik, 6) = left(r.nik, 6) and right(p.nik, 4) = right(r.nik, 4)
    union all
    select r.rec_id, p.nik, 'nik_date_serial'
    from records as r
    inner join link_people as p on right(p.nik, 10) = right(r.nik, 10)
    union all
    select r.rec_id, p.nik, 'name_kabupaten'
    from records as r
    inner join link_people as p on p.name_key = r.name_key and p.kabupaten = r.kabupaten
    union all
    select r.rec_id, p.nik, 'name_dob'
    from records as r
    inner join link_people as p on p.name_key = r.name_key and p.dob = r.dob
    union all
    select r.rec_id, p.nik, 'village_sex_initials'
    from records as r
    inner join link_people as p
        on p.village = r.village and p.sex = r.sex
        and left(p.name_key, 2) = left(r.name_key, 2)
),

final as (
    select rec_id, nik, list(distinct rule order by rule) as rules
    from proposed
    group by rec_id, nik
)

select * from final
