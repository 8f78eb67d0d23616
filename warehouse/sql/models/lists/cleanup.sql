-- name:    lists.cleanup (build)
-- grain:   one row per BPJS row registered in a kab/kota whose bridge category there is not
--          resident (the BPJS branch's cleanup work list)
-- columns: see ddl/lists/lists.sql
with final as (
    select
        $period as period,
        region_code as kabupaten_code,
        category,
        noka,
        nik,
        nama,
        segment,
        is_active,
        region_digits as kode_wilayah,
        case category
            when 'quarantined' then 'failed validation: ' || detail
            when 'duplicate' then 'a further card of a person who holds another card here'
            when 'deceased' then 'Dukcapil records the card holder as deceased (MATI)'
            when 'moved_out' then 'Dukcapil records the card holder as moved out (PINDAH)'
            when 'domiciled_elsewhere' then 'Dukcapil domiciles the card holder in '
                || coalesce(dukcapil_region_digits, '?')
            when 'not_in_population' then case
                when nik is null then 'the card carries no NIK'
                else 'the NIK is not in the Dukcapil extract'
            end
        end as detail,
        line
    from int_bpjs_bridge
    where region_level = 'kabupaten' and category <> 'resident'
)

select * from final order by kabupaten_code, category, line
