-- name:    int_region_levels (temp)
-- grain:   one row per distinct village code seen this period × administrative level at which
--          it can be placed (a level is kept only where the code's prefix is in the
--          Kemendagri list: an unknown village still counts for its kecamatan and above)
-- columns: region_digits, region_level, digits (how many digits of a code name the level),
--          region_code (dotted), region_name
-- The marts count each village code once and roll its figures up through this table. The
-- codes of the months the movement marts compare this period with (the month before and the
-- month after, as stored in intermediate.card_state / resident_state) are placed too.
create or replace temp table int_region_levels as
with seen as (
    select distinct region_digits from int_bpjs_rows where region_digits is not null
    union
    select distinct region_digits from int_dukcapil_rows where region_digits is not null
    union
    select distinct region_digits from int_dinsos_persons where region_digits is not null
    union
    select distinct region_digits from intermediate.card_state
    where period in ($previous_period, $next_period) and region_digits is not null
    union
    select distinct region_digits from intermediate.resident_state
    where period in ($previous_period, $next_period) and region_digits is not null
),

prefixes as (
    -- rules/region_levels.csv: the digits of the code that name each level (a village only
    -- by the whole code)
    select s.region_digits, l.region_level, l.digits, left(s.region_digits, l.digits) as prefix
    from seen as s
    inner join ref.region_levels as l
        on length(s.region_digits) >= l.digits
        and (not l.whole_code or length(s.region_digits) = l.digits)
),

final as (
    select p.region_digits, p.region_level, p.digits, r.region_code, r.region_name
    from prefixes as p
    inner join ref.regions as r
        on r.region_level = p.region_level and r.region_digits = p.prefix
)

select * from final
