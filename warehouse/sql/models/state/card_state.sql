-- name:    intermediate.card_state (build: the period's slice)
-- grain:   one row per BPJS row as delivered this period (int_bpjs_rows)
-- columns: see ddl/intermediate/month_state.sql
-- A card is tracked by its NOKA when the NOKA (trimmed by the parser) is 13 digits, whether or
-- not the row was quarantined for another reason; a damaged NOKA is never repaired.
with final as (
    select
        $period as period,
        line,
        case when regexp_full_match(coalesce(noka, ''), '\d{13}') then noka end as noka,
        region_digits,
        segment,
        is_active,
        ket_nonaktif
    from int_bpjs_rows
)

select * from final
