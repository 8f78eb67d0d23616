-- name:    marts.rows_unplaced (build)
-- grain:   one row per source × reason, for rows received this period that no region counts
-- columns: period, source, reason (region_code_unreadable: the row's KODE_WILAYAH names no
--          Kemendagri kab/kota; record_unreadable: the CSV parser could not split the row),
--          rows
-- With it every row received is accounted for: for bpjs_membership, the sum of `registered`
-- over the kab/kota delivered plus these rows equals data_quality's rows_received.
with placed_kab as (
    select region_digits from int_region_levels where region_level = 'kabupaten'
),

unreadable_region as (
    select 'bpjs_membership' as source, count(*) as n
    from int_bpjs_rows anti join placed_kab using (region_digits)
    union all
    select 'dukcapil', count(*)
    from int_dukcapil_rows anti join placed_kab using (region_digits)
    union all
    select 'dinsos_pbi', count(*)
    from int_dinsos_persons anti join placed_kab using (region_digits)
),

unsplittable as (
    select source, count(*) as n
    from audit.quarantine
    where period = $period and list_contains(reasons, 'record_readable')
    group by source
),

final as (
    select $period as period, source, 'region_code_unreadable' as reason, n as "rows"
    from unreadable_region
    where n > 0
    union all
    select $period, source, 'record_unreadable', n from unsplittable
)

select * from final order by source, reason
