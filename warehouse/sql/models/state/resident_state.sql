-- name:    intermediate.resident_state (build: the period's slice)
-- grain:   one row per resident this period (int_population)
-- columns: see ddl/intermediate/month_state.sql
-- A resident is followed across months by NIK; one whose NIK does not read cannot be.
with final as (
    select
        $period as period,
        case when p.nik_intact then d.nik end as nik,
        p.region_digits,
        p.has_card as covered,
        p.has_active_card as active
    from int_population as p
    inner join int_dukcapil_rows as d on d.line = p.line
)

select * from final
