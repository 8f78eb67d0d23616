-- name:    link_candidates (temp) — block: which pairs are worth scoring
-- grain:   one row per (record, Dukcapil person) pair proposed by at least one blocking rule
-- columns: rec_id, nik (the person's), rules (the blocking rules that proposed the pair)
-- Rules: same birth date and sex in the kab/kota; the same with day and month swapped; the
-- NIK's region and date parts (PPKKCC DDMMYY) equal, or its date and serial (DDMMYY SSSS) — a
-- typo in the date part is caught by the birth date the row carries beside it (region and
-- serial alone would not do: serial 0001 is half a kecamatan); same normalised name and birth
-- year in the kab/kota (a name alone is shared by hundreds in a kab/kota), or anywhere with
-- the same birth date; same village, sex and first three letters of the name (a typo in the
-- birth date and in the NIK's date part, or in both name and date). Work grows with records ×
-- bucket size, not records × people.
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
    select r.rec_id, p.nik, 'nik_date_serial'
    from records as r
    inner join link_people as p on right(p.nik, 10) = right(r.nik, 10)
    union all
    select r.rec_id, p.nik, 'name_birth_year_kabupaten'
    from records as r
    inner join link_people as p
        on p.name_key = r.name_key and year(p.dob) = year(r.dob) and p.kabupaten = r.kabupaten
    union all
    select r.rec_id, p.nik, 'name_dob'
    from records as r
    inner join link_people as p on p.name_key = r.name_key and p.dob = r.dob
    union all
    select r.rec_id, p.nik, 'village_sex_initials'
    from records as r
    inner join link_people as p
        on p.village = r.village and p.sex = r.sex
        and left(p.name_key, 3) = left(r.name_key, 3)
    -- only rows whose NIK cannot help (absent, or someone else's): for all rows this rule
    -- doubles the pairs to score for +0.3 pp of recall (measured on OKU Timur, full size)
    where r.nik is null or r.nik_conflict
),

final as (
    select rec_id, nik, list(distinct rule order by rule) as rules
    from proposed
    group by rec_id, nik
)

select * from final
