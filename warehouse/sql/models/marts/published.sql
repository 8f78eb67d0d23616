-- name:    marts.published (build)
-- grain:   one row: the period being built
-- columns: period, published_at and flow_run (NULL here: stamped by the publish step,
--          tasks/marts.py publish, right before the file is written and renamed into place),
--          code_version, rules_version, region_list (bound by the caller: jkn.version,
--          jkn.rules, jkn.reference), population_snapshot (the denominator's extract, as
--          marts.coverage says it)
select
    $period::date                  as period,
    cast(null as timestamptz)      as published_at,
    $code_version::varchar         as code_version,
    $rules_version::varchar        as rules_version,
    $region_list::varchar          as region_list,
    $snapshot::varchar             as population_snapshot,
    cast(null as varchar)          as flow_run
