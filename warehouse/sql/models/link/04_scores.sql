-- name:    link_scores (temp) — score: how strongly each candidate pair agrees
-- grain:   one row per candidate pair
-- columns: rec_id, nik, rule_bits, name_level, dob_level, nik_level, sex_level, place_level,
--          no_kk_level (the evidence, one level per comparison), score (sum of the levels'
--          log2 weights from link_weights, i.e. settings.json)
create or replace temp table link_scores as
with weights as (
    select map(list(comparison || ':' || level), list(weight)) as w from link_weights
),

records as (
    -- what depends on the record alone, once per record rather than once per candidate
    select *, jkn_swap_day_month(dob) as dob_swapped from link_records
),

measured as (
    -- the costly string comparisons, once per pair
    select
        c.rec_id,
        c.nik,
        c.rule_bits,
        r.name_key = p.name_key as name_equal,
        len(p.tokens) as person_tokens,
        jaro_winkler_similarity(r.core_key, p.core_key) as name_jw,
        r.core_key as r_name_key,
        p.core_key as p_name_key,
        r.plain_key as r_plain_key,
        p.plain_key as p_plain_key,
        r.tokens as r_tokens,
        p.tokens as p_tokens,
        r.dob as r_dob,
        r.dob_swapped as r_dob_swapped,
        p.dob as p_dob,
        r.nik as r_nik,
        r.nik_conflict,
        r.nik_consistent,
        left(r.nik, 6) = r.kecamatan as nik_in_kecamatan,
        -- the NIKs' edit distance, once per pair, where the row's NIK can be evidence at all
        case
            when r.nik <> p.nik and not r.nik_conflict then damerau_levenshtein(r.nik, p.nik)
        end as nik_edits,
        p.nik as p_nik,
        r.sex as r_sex,
        p.sex as p_sex,
        r.village as r_village,
        p.village as p_village,
        r.kecamatan as r_kecamatan,
        p.kecamatan as p_kecamatan,
        r.kabupaten as r_kabupaten,
        p.kabupaten as p_kabupaten,
        r.no_kk as r_no_kk,
        p.no_kk as p_no_kk
    from link_candidates as c
    inner join records as r on r.rec_id = c.rec_id
    inner join link_people as p on p.nik = c.nik
),

compared as (
    select
        rec_id,
        nik,
        rule_bits,
        case
            -- a one-word name (EVA, NELI) is shared by many: agreeing on it says less
            when name_equal and person_tokens = 1 then 'exact_single'
            when name_equal then 'exact'
            -- the same once the commonest parts are left out (MUHAMMAD MARLIN, MARLIN): one
            -- side lacks a part thousands bear, the rest must carry the evidence
            when r_name_key = p_name_key then 'core'
            when name_jw >= $name_close then 'close'
            -- later branches are evaluated only for the pairs earlier ones left
            -- one edit apart means lengths at most one apart: the edit distance only then
            when len(p_name_key) >= 4 and abs(len(r_name_key) - len(p_name_key)) <= 1
                and damerau_levenshtein(r_name_key, p_name_key) = 1
                then 'one_typo'
            -- the same as written, before folding: LLIS for LILIS is one edit, not two
            when len(p_plain_key) >= 4 and abs(len(r_plain_key) - len(p_plain_key)) <= 1
                and damerau_levenshtein(r_plain_key, p_plain_key) = 1
                then 'one_typo'
            -- a short name (TRI, DWI, ADI) one letter off: weaker, many short names are one
            -- letter apart (ADI, EDI, ALI)
            when len(p_plain_key) = 3 and abs(len(r_plain_key) - 3) <= 1
                and damerau_levenshtein(r_plain_key, p_plain_key) = 1
                then 'one_typo_short'
            when len(r_tokens) >= 2 and len(p_tokens) >= 2
                and (list_has_all(r_tokens, p_tokens) or list_has_all(p_tokens, r_tokens))
                then 'subset'
            when name_jw >= $name_similar then 'similar'
            else 'different'
        end as name_level,
        case
            when r_dob is null or p_dob is null then 'missing'
            when r_dob = p_dob then 'exact'
            when r_dob_swapped = p_dob then 'swap'
            when abs(date_diff('day', r_dob, p_dob)) <= $dob_near_days then 'near'
            when year(r_dob) = year(p_dob) then 'year'
            else 'different'
        end as dob_level,
        case
            when r_nik is null then 'missing'
            when r_nik = p_nik then 'exact'
            -- a NIK shown to be someone else's says nothing about who else the row is
            when nik_conflict then 'missing'
            -- two people born the same day in one kecamatan differ only in the serial: an
            -- edit there is weak evidence, an edit in the region or date part strong
            when nik_edits = 1 and left(r_nik, 12) = left(p_nik, 12) then 'one_edit_serial'
            -- a NIK whose region part is the row's own kecamatan and whose date part is the
            -- row's own birth date and sex is the row's NIK as issued: one digit away from a
            -- neighbour's in those parts (same serial, next kecamatan code or next day), it
            -- is another person's, not a typo of it
            when nik_consistent and nik_in_kecamatan then 'different'
            -- a digit off in the region part while the row lives in another kecamatan than
            -- the candidate: the place disagrees twice, the NIK is likely a neighbour's
            when nik_edits = 1 and left(r_nik, 6) <> left(p_nik, 6)
                and r_village is not null and r_kecamatan <> p_kecamatan
                then 'one_edit_region_elsewhere'
            when nik_edits = 1 then 'one_edit'
            -- a NIK that agrees with its own row's birth date and sex and is two digits from
            -- the candidate's is another person's NIK, not a typo of this one
            when nik_consistent then 'different'
            when nik_edits = 2 then 'two_edits'
            else 'different'
        end as nik_level,
        case
            when r_sex is null or p_sex is null then 'missing'
            when r_sex = p_sex then 'same'
            else 'different'
        end as sex_level,
        case
            when r_village is null or p_village is null then 'missing'
            when r_village = p_village then 'village'
            when r_kecamatan = p_kecamatan then 'kecamatan'
            when r_kabupaten = p_kabupaten then 'kabupaten'
            else 'different'
        end as place_level,
        case
            when r_no_kk is null or p_no_kk is null then 'missing'
            when r_no_kk = p_no_kk then 'same'
            else 'different'
        end as no_kk_level
    from measured
),

final as (
    select
        c.*,
        (
            w['name:' || name_level] + w['dob:' || dob_level] + w['nik:' || nik_level]
            + w['sex:' || sex_level] + w['place:' || place_level]
            + w['no_kk:' || no_kk_level]
        )::double as score
    from compared as c
    cross join weights
)

select * from final
