-- name:    national exchange: what crosses provinces in one hash partition
-- grain:   one row per province with persons in the partition
-- columns: province, carded_elsewhere_too, residents_in_several, residents_carded_elsewhere,
--          uncovered_carded_elsewhere, cross_province_double_funding (as in
--          ddl/national/cross_province.sql and national_coverage.sql), and, for the
--          national row (the partitions hold disjoint persons, so they add up): carded_in_several,
--          resident_in_several (persons counted once)
-- Reads `exchange`: every province's rows of the partition (person, province, resident, carded,
-- apbd, other_cover), one row per person and province.
with per_person as (
    select
        person,
        count(*) filter (where carded) as provinces_carded,
        count(*) filter (where resident) as provinces_resident,
        count(*) filter (where other_cover) as provinces_other_cover
    from exchange
    group by person
),

final as (
    select
        e.province,
        count(*) filter (where e.carded and n.provinces_carded > 1) as carded_elsewhere_too,
        count(*) filter (where e.resident and n.provinces_resident > 1) as residents_in_several,
        count(*) filter (
            where e.resident and n.provinces_carded > e.carded::integer
        ) as residents_carded_elsewhere,
        count(*) filter (
            where e.resident and not e.carded and n.provinces_carded > 0
        ) as uncovered_carded_elsewhere,
        count(*) filter (
            where e.apbd and not e.other_cover and n.provinces_other_cover > 0
        ) as cross_province_double_funding,
        any_value(s.carded_in_several) as carded_in_several,
        any_value(s.resident_in_several) as resident_in_several
    from exchange as e
    inner join per_person as n on n.person = e.person
    cross join (
        select
            count(*) filter (where provinces_carded > 1) as carded_in_several,
            count(*) filter (where provinces_resident > 1) as resident_in_several
        from per_person
    ) as s
    group by e.province
)

select * from final order by province
