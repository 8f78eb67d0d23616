-- name:    marts.published_files (build)
-- grain:   one row per source of the period: the file validated and staged for it
-- columns: period, source, file_name (audit.files.delivered: 2025-05/dukcapil.csv), sha256,
--          bytes, received_at (audit.files: the landing store's manifest), rows_received,
--          rows_loaded, rows_quarantined (audit.data_quality's per-source totals, which
--          marts.data_quality publishes with this period: the same figures)
-- A period is built only when every source loaded, so the three sources are all here.
with totals as (
    select distinct period, source, rows_received, rows_loaded, rows_quarantined
    from audit.data_quality
    where period = $period
)

select
    f.period,
    f.source,
    f.delivered   as file_name,
    f.sha256,
    f.size_bytes  as bytes,
    f.received_at,
    t.rows_received,
    t.rows_loaded,
    t.rows_quarantined
from audit.files as f
inner join totals as t using (period, source)
where f.period = $period and f.outcome = 'loaded'
order by f.source
