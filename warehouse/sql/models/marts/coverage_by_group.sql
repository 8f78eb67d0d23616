-- name:    marts.coverage_by_group (build)
-- grain:   one row per kabupaten/kota and kecamatan with residents × sex × age band: the twelve
--          groups of sex L/P × the bands of rules/age_bands.csv always (zero included), and a
--          group with sex or age band `unknown` where a resident falls in it
-- columns: see ddl/marts/coverage_by_group.sql
-- A resident's sex is Dukcapil's as the parser reads it (L/P; `unknown` where it does not
-- read); the age band is that of the completed years at the period's last day ($period_end)
-- of the Dukcapil birth date (`unknown` where the date does not read or is after that day).
-- One unknown leaves the other as it reads. Residents are counted once per village code and
-- group, then rolled up through int_region_levels as marts.coverage is, so that the groups of
-- a region add up to its marts.coverage row.
with bands as (
    -- rules/age_bands.csv: each band's bounds in completed years (max_age empty: no bound)
    select age_band, age_band_order, min_age, max_age from ref.age_bands
),

residents as (
    select
        p.region_digits,
        p.has_card,
        p.has_active_card,
        coalesce(d.jenis_kelamin, 'unknown') as sex,
        case
            when d.tgl_lahir::date <= $period_end
            then completed_years(d.tgl_lahir::date, $period_end)
        end as age
    from int_population as p
    inner join int_dukcapil_rows as d on d.line = p.line
),

villages as (
    select
        r.region_digits,
        r.sex,
        coalesce(b.age_band, 'unknown') as age_band,
        count(*) as population,
        count(*) filter (where r.has_card) as covered_residents,
        count(*) filter (where r.has_active_card) as active_residents
    from residents as r
    left join bands as b
        on r.age >= b.min_age and (b.max_age is null or r.age <= b.max_age)
    group by all
),

rolled as (
    select
        l.region_level,
        l.region_code,
        any_value(l.region_name) as region_name,
        v.sex,
        v.age_band,
        sum(v.population)::bigint as population,
        sum(v.covered_residents)::bigint as covered_residents,
        sum(v.active_residents)::bigint as active_residents
    from villages as v
    inner join int_region_levels as l on l.region_digits = v.region_digits
    where l.region_level in ('kabupaten', 'kecamatan')
    group by l.region_level, l.region_code, v.sex, v.age_band
),

regions as (
    select region_level, region_code, any_value(region_name) as region_name
    from rolled
    group by all
),

groups as (
    -- sex as staged: L or P (schemas.common.sex_value)
    select r.region_level, r.region_code, r.region_name, s.sex, b.age_band
    from regions as r
    cross join (values ('L'), ('P')) as s (sex)
    cross join bands as b
    union
    select region_level, region_code, region_name, sex, age_band
    from rolled
),

counted as (
    select
        g.region_code,
        g.region_level,
        g.region_name,
        g.sex,
        g.age_band,
        coalesce(b.age_band_order, (select max(age_band_order) + 1 from bands)) as age_band_order,
        coalesce(k.population, 0) as population,
        coalesce(k.covered_residents, 0) as covered_residents,
        coalesce(k.active_residents, 0) as active_residents
    from groups as g
    left join bands as b on b.age_band = g.age_band
    left join rolled as k
        on k.region_level = g.region_level
        and k.region_code = g.region_code
        and k.sex = g.sex
        and k.age_band = g.age_band
),

rated as (
    select
        *,
        unnest(coverage_rates(
            population, null::bigint, null::bigint, covered_residents, active_residents
        ))
    from counted
),

final as (
    select
        $period as period,
        region_code,
        region_level,
        region_name,
        sex,
        age_band,
        population,
        covered_residents,
        active_residents,
        coverage_reconciled,
        activity_reconciled
    from rated
    -- in the bands' order (rules/age_bands.csv), unknown last
    order by region_code, sex, age_band_order
)

select * from final
