-- name:    int_bpjs_cards (temp)
-- grain:   one row per BPJS row as delivered this period (region levels are not multiplied
--          in: the bridge's category at each level follows from three columns, see
--          bridge_category)
-- columns: line, quarantined, segment, is_active, ket_nonaktif, person_key, region_digits,
--          dukcapil_region_digits (where Dukcapil domiciles the person), status_category (the
--          row's category wherever it is the card kept for its person: quarantined, deceased,
--          moved_out, not_in_population; null: resident or domiciled_elsewhere, by region),
--          duplicate_digits (the row is a duplicate at every level whose codes have at most
--          this many digits; null: the card kept at every level), domicile_digits (for a row
--          whose status category is null: Dukcapil domiciles the person in the row's region
--          at every level whose codes have at most this many digits; null: at none).
--          Identity columns stay in int_bpjs_rows (join on line).
-- The card kept for a person in a region is an active one where there is one (then the first
-- in the file); the person's other cards there are duplicates. A duplicate in a village is one
-- in its kecamatan and above (the better card is there too), and a person domiciled in a
-- kecamatan is domiciled in its kab/kota: both facts reach from the province down to a level.
create or replace temp table int_bpjs_cards as
with dukcapil as (
    -- every Dukcapil record whose NIK reads, quarantined or not (a record quarantined for,
    -- say, an unreadable birth date still says who is alive, dead or gone); loaded ones first
    select nik, status, region_digits
    from int_dukcapil_rows
    where nik_intact
    qualify row_number() over (partition by nik order by quarantined, line) = 1
),

ranked as (
    -- only a person with several valid cards can have a duplicate among them: their cards
    -- (a few percent) are ranked in every region where they are registered
    select
        b.line,
        l.digits,
        row_number() over (
            partition by l.region_level, l.region_code, b.person_key
            order by b.is_active desc, b.line
        ) as nth
    from int_bpjs_rows as b
    inner join int_region_levels as l on l.region_digits = b.region_digits
    where not b.quarantined
        and b.person_key in (select person_key from int_bpjs_persons where cards > 1)
),

duplicates as (
    select line, max(digits) as duplicate_digits
    from ranked
    where nth > 1
    group by line
),

levels as (
    -- rules/region_levels.csv: the digits of the code that name each level
    select list(digits) as digits from ref.region_levels
),

cards as (
    -- Dukcapil's word on each card's person, looked up once per card
    select
        b.line,
        b.quarantined,
        b.segment,
        b.is_active,
        b.ket_nonaktif,
        b.person_key,
        b.region_digits,
        d.region_digits as dukcapil_region_digits,
        case
            when b.quarantined then 'quarantined'
            when d.status = 'MATI' then 'deceased'
            when d.status = 'PINDAH' then 'moved_out'
            -- a record with a status Dukcapil does not use places the person nowhere
            when d.nik is null or d.status is distinct from 'HIDUP' then 'not_in_population'
        end as status_category,
        u.duplicate_digits
    from int_bpjs_rows as b
    left join dukcapil as d on d.nik = b.person_key
    left join duplicates as u on u.line = b.line
),

final as (
    select
        c.*,
        case when c.status_category is null then
            -- the finest level whose code Dukcapil's domicile starts with
            list_max(list_filter(
                v.digits,
                lambda n: starts_with(c.dukcapil_region_digits, left(c.region_digits, n))
            ))
        end as domicile_digits
    from cards as c
    cross join levels as v
)

select * from final
