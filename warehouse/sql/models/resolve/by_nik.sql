-- name:    intermediate.row_person, method 'nik' (build)
-- grain:   one row per loaded row of the three sources this period
-- columns: period, source, line, person_key, method
-- Dukcapil is the anchor: a person is a NIK. A BPJS card without NIK names no one yet: it is
-- its own person ('card:<NOKA>') until linking by name, birth date, sex and place says whose.
with rows as (
    select 'dukcapil' as source, line, nik, null::varchar as noka
    from staging.dukcapil where period = $period
    union all
    select 'dinsos_pbi', line, nik, null from staging.dinsos_pbi where period = $period
    union all
    select 'bpjs_membership', line, nik, noka
    from staging.bpjs_membership where period = $period
),

final as (
    select
        $period as period,
        source,
        line,
        coalesce(nik, 'card:' || noka) as person_key,
        case when nik is null then 'unlinked' else 'nik' end as method
    from rows
)

select * from final
