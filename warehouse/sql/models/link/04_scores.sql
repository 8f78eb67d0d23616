-- name:    link_scores (temp) — score: how strongly each candidate pair agrees
-- grain:   one row per candidate pair
-- columns: rec_id, nik, rules, name_level, dob_level, nik_level, sex_level, place_level,
--          no_kk_level (the evidence, one level per comparison), score (sum of the levels'
--          log2 weights from link_weights, i.e. settings.json)
create or replace temp table link_scores as
with compared as (
    select
        c.rec_id,
        c.nik,
        c.rules,
        case
            -- a one-word name (EVA, NELI) is shared by many: agreeing on it says less
            when r.name_key = p.name_key and len(p.tokens) = 1 then 'exact_single'
            when r.name_key = p.name_key then 'exact'
            when jaro_winkler_similarity(r.name_key, p.name_key) >= $name_close then 'close'
            when len(p.name_key) >= 4 and damerau_levenshtein(r.name_key, p.name_key) = 1
                then 'one_typo'
            when len(r.tokens) >= 2 and len(p.tokens) >= 2
                and (list_has_all(r.tokens, p.tokens) or list_has_all(p.tokens, r.tokens))
                then 'subset'
            when jaro_winkler_similarity(r.name_key, p.name_key) >= $name_similar then 'similar'
            else 'different'
        end as name_level,
        case
            when r.dob is null or p.dob is null then 'missing'
            when r.dob = p.dob then 'exact'
            when jkn_swap_day_month(r.dob) = p.dob then 'swap'
            when abs(date_diff('day', r.dob, p.dob)) <= $dob_near_days then 'near'
            when year(r.dob) = year(p.dob) then 'year'
            else 'different'
        end as dob_level,
        case
            when r.nik is null then 'missing'
            when r.nik = p.nik then 'exact'
            -- a NIK shown to be someone else's says nothing about who else the row is
            when r.nik_conflict then 'missing'
            when damerau_levenshtein(r.nik, p.nik) = 1 then 'one_edit'
            when damerau_levenshtein(r.nik, p.nik) = 2 then 'two_edits'
            else 'different'
        end as nik_level,
        case
            when r.sex is null or p.sex is null then 'missing'
            when r.sex = p.sex then 'same'
            else 'different'
        end as sex_level,
        case
            when r.village is null or p.village is null then 'missing'
            when r.village = p.village then 'village'
            when r.kecamatan = p.kecamatan then 'kecamatan'
            when r.kabupaten = p.kabupaten then 'kabupaten'
            else 'different'
        end as place_level,
        case
            when r.no_kk is null or p.no_kk is null then 'missing'
            when r.no_kk = p.no_kk then 'same'
            else 'different'
        end as no_kk_level
    from link_candidates as c
    inner join link_records as r on r.rec_id = c.rec_id
    inner join link_people as p on p.nik = c.nik
),

weighted as (
    select u.rec_id, u.nik, sum(w.weight) as score
    from (
        unpivot compared
        on name_level as name, dob_level as dob, nik_level as nik, sex_level as sex,
            place_level as place, no_kk_level as no_kk
        into name comparison value level
    ) as u
    inner join link_weights as w using (comparison, level)
    group by u.rec_id, u.nik
),

final as (
    select c.*, w.score
    from compared as c
    inner join weighted as w using (rec_id, nik)
)

select * from final
