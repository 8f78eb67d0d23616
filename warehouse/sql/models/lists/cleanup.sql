-- name:    lists.cleanup (build)
-- grain:   one row per BPJS row registered in a kab/kota whose bridge category there is not
--          resident (the BPJS branch's cleanup work list)
-- columns: see ddl/lists/lists.sql
with bridged as (
    -- each card's bridge category in its kab/kota (int_bpjs_cards, bridge_category)
    select
        c.*,
        l.region_code,
        bridge_category(
            l.digits, c.duplicate_digits, c.status_category, c.domicile_digits
        ) as category
    from int_bpjs_cards as c
    inner join int_region_levels as l
        on l.region_digits = c.region_digits and l.region_level = 'kabupaten'
),

final as (
    select
        $period as period,
        b.region_code as kabupaten_code,
        b.category,
        r.noka,
        r.nik,
        r.nama,
        b.segment,
        b.is_active,
        r.region_digits as kode_wilayah,
        case b.category
            when 'quarantined' then 'failed validation: ' || r.detail
            when 'duplicate' then 'a further card of a person who holds another card here'
            when 'deceased' then 'Dukcapil records the card holder as deceased (MATI)'
            when 'moved_out' then 'Dukcapil records the card holder as moved out (PINDAH)'
            when 'domiciled_elsewhere' then 'Dukcapil domiciles the card holder in '
                || coalesce(b.dukcapil_region_digits, '?')
            when 'not_in_population' then case
                when r.nik is null then 'the card carries no NIK'
                else 'the NIK is not in the Dukcapil extract'
            end
        end as detail,
        b.line
    from bridged as b
    inner join int_bpjs_rows as r on r.line = b.line
    where b.category <> 'resident'
)

select * from final order by kabupaten_code, category, line
