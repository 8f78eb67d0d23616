-- name:    forum_trend (report)
-- grain:   one row per kabupaten/kota and province × every published period up to $period
-- columns: region_code, period, coverage_registered, activity_of_population,
--          coverage_reconciled
-- Reads the published marts only (coverage, published: a period is in the trend once
-- published).
select c.region_code, c.period, c.coverage_registered, c.activity_of_population,
    c.coverage_reconciled
from marts.coverage as c
inner join marts.published as p using (period)
where c.period <= $period and c.region_level in ('province', 'kabupaten')
order by c.region_code, c.period
