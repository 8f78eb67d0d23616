-- name:    link_blocks (temp) — block, part 1: which bucket of each blocking key a record or
--          a person falls in, split wherever a bucket holds more than $max_bucket people
-- grain:   one row per (record, rule, way of splitting) and per (person, kind of key, way)
--          for the buckets some record falls in (a bucket within the cap has one way: itself)
-- columns: side ('record' | 'person'), id (rec_id or nik), rule_bit (records: the rule's bit,
--          each $rule_<name> bound from the order of jkn.link.BLOCKING_RULES, which
--          jkn_rule_names reads back; a rule named here and not there, or there and not here,
--          stops the run), kind (which key), level (0 the rule's own key; 1 split by field a,
--          3 by a and c; 2 split by field b, 4 by b and d; null: still over the cap, skipped),
--          bucket (hash of the key at that level), people (people in that bucket)
-- Rules: same birth date and sex in the kecamatan (kind 1), or in the kab/kota with the same
-- initial (kind 2); the same with day and month swapped; the NIK's region and date parts
-- (PPKKCC DDMMYY, kind 3) equal, or its date and serial (DDMMYY SSSS, kind 4), or its region and
-- serial with the same date digits in another order (two digits of the date transposed, kind
-- 8) — a substituted digit in the date part is caught by the birth date the row carries beside
-- it (region and serial alone would not do: serial 0001 is half a kecamatan); same normalised
-- name and birth year in the kecamatan (kind 5), or with the birth month too in the kab/kota
-- (kind 6: a name alone is shared by hundreds in a kab/kota), or anywhere with the same birth
-- date (kind 7); same village, sex and first three letters of the name (kind 9: a typo in the
-- birth date and in the NIK's date part, or in both name and date), only for rows whose NIK
-- cannot help (absent, or someone else's: for all rows it doubles the pairs to score for
-- +0.3 pp of recall, measured on OKU Timur, full size); same village, sex, birth year and
-- month (kind 10: the day mistyped together with a name variant or a bad NIK, for every
-- row: +1.0 / +0.8 pp of recall at 100k / 1M residents for 0.03 / 0.23 more pairs per
-- resident).
-- Bounded buckets: a key's bucket grows with the place it is drawn in (a kecamatan's 1 January,
-- serial 0001 of a date in every kecamatan, MUH… in a village), so a bucket of more than
-- $max_bucket people is split two ways, each by a field the true pair almost always shares,
-- and a part still too large by one more field: kinds 1: village, then the name's last letter
-- | the last word's initial, then the name's length; 2, 3, 4, 8: the last word's initial, then
-- the last letter | the last letter, then the length; 5: sex, then birth month | month, then
-- village; 6: sex, then birth day | day, then kecamatan; 7: sex, then kab/kota | kab/kota, then
-- village; 9: birth year, then month | the last letter, then the length; 10: the last word's
-- initial, then the last letter | the last letter, then the length. A pair is proposed if
-- it shares a part either way, so it is lost only when both ways' fields disagree (splitting
-- one way only lost links at 1M residents; skipping the bucket would lose them all). A record
-- meets at most 2 × $max_bucket people per rule whatever the size of the district; a part still
-- over the cap after both splits (namesakes born the same day in one village) is skipped and
-- counted (LinkReport.skipped_blocks). Keys are 64-bit hashes: two keys sharing one (about one
-- chance in 10^12 here) only add a pair to score.
create or replace temp table link_blocks as
with sides as not materialized (
    -- both sides in one shape, so that each key below is written once for both; a record
    -- comes a second time with day and month of its birth date swapped (where that is a date);
    -- lt: the name's last word's initial, ll: its last letter, len: its length
    select 'record' as side, rec_id as id, false as swapped, dob, nik, nik_conflict, name_key,
           left(tokens[-1], 1) as lt, sex, village, kecamatan, kabupaten
    from link_records
    union all
    select 'record', rec_id, true, jkn_swap_day_month(dob), nik, nik_conflict, name_key,
           left(tokens[-1], 1), sex, village, kecamatan, kabupaten
    from link_records
    where jkn_swap_day_month(dob) is not null
    union all
    select 'person', nik, false, dob, nik, false, name_key, left(tokens[-1], 1), sex, village,
           kecamatan, kabupaten
    from link_people
),

keys as not materialized (
    -- each rule's key (k0); rule_bit is the record's (a swapped birth date proposes for the
    -- swapped rule)
    select *, 1 as kind, hash(dob, sex, kecamatan) as k0,
           case when swapped then $rule_dob_swapped_sex_kecamatan_or_initial
                else $rule_dob_sex_kecamatan_or_initial end as rule_bit
    from sides where dob is not null and sex is not null and kecamatan is not null
    union all
    select *, 2, hash(dob, sex, kabupaten, left(name_key, 1)),
           case when swapped then $rule_dob_swapped_sex_kecamatan_or_initial
                else $rule_dob_sex_kecamatan_or_initial end
    from sides where dob is not null and sex is not null and kabupaten is not null
    union all
    select *, 3, hash(left(nik, 12)), $rule_nik_region_date
    from sides where nik is not null and not swapped
    union all
    select *, 4, hash(right(nik, 10)), $rule_nik_date_serial
    from sides where nik is not null and not swapped
    union all
    select *, 5, hash(name_key, year(dob), kecamatan), $rule_name_birth_year_kecamatan_or_month
    from sides where dob is not null and kecamatan is not null and not swapped
    union all
    select *, 6, hash(name_key, year(dob), month(dob), kabupaten),
           $rule_name_birth_year_kecamatan_or_month
    from sides where dob is not null and kabupaten is not null and not swapped
    union all
    select *, 7, hash(name_key, dob), $rule_name_dob
    from sides where dob is not null and not swapped
    union all
    select *, 8, hash(left(nik, 6), right(nik, 4), jkn_sorted_digits(substr(nik, 7, 6))),
           $rule_nik_region_serial_date_digits
    from sides where nik is not null and not swapped
    union all
    select *, 9, hash(village, sex, left(name_key, 3)), $rule_village_sex_initials
    from sides
    where village is not null and sex is not null and not swapped
      and (side = 'person' or nik is null or nik_conflict)
    union all
    -- the day of the birth date mistyped, for every row: a date typo with a missing or
    -- mistyped NIK or a name variant leaves no other key intact; a village's people born in
    -- one month and of one sex are a handful
    select *, 10, hash(village, sex, year(dob), month(dob)), $rule_village_sex_birth_month
    from sides where village is not null and sex is not null and dob is not null and not swapped
),

record_buckets as materialized (
    select distinct kind, k0 from keys where side = 'record'
),

keyed as materialized (
    -- the records, and the people some record shares a rule's key with (all of that bucket's
    -- people), with the fields a bucket is split by when too large: one way by a (then a and
    -- c), another by b (then b and d); the name's last word's initial, last letter and length
    -- survive most spelling variants and typos
    select
        side,
        id,
        kind,
        k0,
        case when side = 'record' then rule_bit end as rule_bit,
        case kind
            when 1 then hash(village) when 2 then hash(lt)
            when 3 then hash(lt) when 4 then hash(lt)
            when 5 then hash(sex) when 6 then hash(sex) when 7 then hash(sex)
            when 8 then hash(lt) when 9 then hash(year(dob)) when 10 then hash(lt)
        end as a,
        case kind
            when 1 then hash(right(name_key, 1)) when 5 then hash(month(dob))
            when 6 then hash(day(dob)) when 7 then hash(kabupaten) when 9 then hash(month(dob))
            else hash(right(name_key, 1))
        end as c,
        case kind
            when 1 then hash(lt) when 5 then hash(month(dob))
            when 6 then hash(day(dob)) when 7 then hash(kabupaten)
            else hash(right(name_key, 1))
        end as b,
        case kind
            when 5 then hash(village) when 6 then hash(kecamatan) when 7 then hash(village)
            else hash(length(name_key))
        end as d
    from (
        select * from keys where side = 'record'
        union all
        select k.*
        from keys as k
        semi join record_buckets as r on r.kind = k.kind and r.k0 = k.k0
        where k.side = 'person'
    )
),

record_keys as (
    select id as rec_id, rule_bit, kind, k0, a, b, c, d from keyed where side = 'record'
),

people_keys as (
    select id as nik, kind, k0, a, b, c, d from keyed where side = 'person'
),

buckets as materialized (
    -- people per bucket of the rule's own key (all of a bucket's people are in people_keys)
    select kind, k0, count(*) as people from people_keys group by kind, k0
),

within as (
    -- buckets within the cap, as they are (most of them)
    select 'record' as side, r.rec_id as id, r.rule_bit, r.kind, 0 as level, r.k0 as bucket,
           coalesce(b.people, 0) as people
    from record_keys as r
    left join buckets as b on b.kind = r.kind and b.k0 = r.k0
    where coalesce(b.people, 0) <= $max_bucket
    union all
    select 'person', p.nik, null, p.kind, 0, p.k0, b.people
    from people_keys as p
    inner join buckets as b on b.kind = p.kind and b.k0 = p.k0
    where b.people <= $max_bucket
),

over as materialized (
    -- rows of the buckets over the cap, each split by field a (level 1) and, separately, by
    -- field b (level 2); a part still over the cap by a and c (level 3), or b and d (level 4)
    select 'record' as side, r.rec_id as id, r.rule_bit, r.kind,
           hash(r.k0, r.a) as ka, hash(r.k0, r.b) as kb, hash(r.k0, r.a, r.c) as kac,
           hash(r.k0, r.b, r.d) as kbd
    from record_keys as r
    inner join buckets as b on b.kind = r.kind and b.k0 = r.k0
    where b.people > $max_bucket
    union all
    select 'person', p.nik, null, p.kind, hash(p.k0, p.a), hash(p.k0, p.b),
           hash(p.k0, p.a, p.c), hash(p.k0, p.b, p.d)
    from people_keys as p
    inner join buckets as b on b.kind = p.kind and b.k0 = p.k0
    where b.people > $max_bucket
),

parts as materialized (
    select kind, level, bucket, count(*) as people
    from (
        select kind, 1 as level, ka as bucket from over where side = 'person'
        union all
        select kind, 2, kb from over where side = 'person'
        union all
        select kind, 3, kac from over where side = 'person'
        union all
        select kind, 4, kbd from over where side = 'person'
    )
    group by all
),

split as (
    select
        o.side,
        o.id,
        o.rule_bit,
        o.kind,
        -- (level, bucket, people) of each way of splitting; a part still over the cap after
        -- both splits: null, the block is skipped (and counted)
        case
            when coalesce(sa.people, 0) <= $max_bucket
                then {'level': 1, 'bucket': o.ka, 'people': coalesce(sa.people, 0)}
            when coalesce(sac.people, 0) <= $max_bucket
                then {'level': 3, 'bucket': o.kac, 'people': coalesce(sac.people, 0)}
        end as by_a,
        case
            when coalesce(sb.people, 0) <= $max_bucket
                then {'level': 2, 'bucket': o.kb, 'people': coalesce(sb.people, 0)}
            when coalesce(sbd.people, 0) <= $max_bucket
                then {'level': 4, 'bucket': o.kbd, 'people': coalesce(sbd.people, 0)}
        end as by_b
    from over as o
    left join parts as sa on sa.kind = o.kind and sa.level = 1 and sa.bucket = o.ka
    left join parts as sb on sb.kind = o.kind and sb.level = 2 and sb.bucket = o.kb
    left join parts as sac on sac.kind = o.kind and sac.level = 3 and sac.bucket = o.kac
    left join parts as sbd on sbd.kind = o.kind and sbd.level = 4 and sbd.bucket = o.kbd
),

final as (
    -- the same for a record and the people of its buckets: both read the people's counts
    select * from within
    union all
    select distinct side, id, rule_bit, kind, unnest(way)
    from (select side, id, rule_bit, kind, unnest([by_a, by_b]) as way from split)
)

select * from final
