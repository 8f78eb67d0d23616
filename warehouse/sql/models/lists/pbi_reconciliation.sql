-- name:    lists.pbi_reconciliation (build)
-- grain:   one row per kab/kota × person in a PBI reconciliation category
-- columns: see ddl/lists/lists.sql
with final as (
    select
        $period as period,
        region_code as kabupaten_code,
        category,
        nik,
        nama,
        segments,
        nokas
    from int_pbi_persons
    where region_level = 'kabupaten'
)

select * from final order by kabupaten_code, category, nik
