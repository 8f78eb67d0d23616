-- name:    jkn_record_key, jkn_pair_fingerprint (temp macros; warehouse.build.define_macros
--          defines them, for the marts' connection, the linkage's and the decisions' import)
-- jkn_record_key(source, noka, nama, tgl_lahir, jenis_kelamin, kode_wilayah): what identifies
--   a record to be linked across months, whose line changes every month — a BPJS card by its
--   NOKA; a PBI-list row by its name (upper case, letters only, accents dropped: not the
--   linkage's settings-dependent name key, so a change of name variants keeps decisions),
--   birth date, sex and village. The key an officer's decision is stored under
--   (audit.review_decisions.record_key). Null when the parts are missing.
-- jkn_pair_fingerprint(period, source, line, record_nik, record_nama, record_tgl_lahir,
--   candidate_nik, candidate_nama, candidate_tgl_lahir): 16 hex digits of SHA-256 over the
--   review row's place and both sides' identity columns as text, written into every exported
--   review row (lists.link_review.pair_fingerprint) and recomputed from the cells of a file
--   coming back: a changed identity cell, or a row whose line now holds another pair, does
--   not match. Dates as YYYY-MM-DD, the period as YYYY-MM, missing values as ''.
create or replace temp macro jkn_record_key(source, noka, nama, tgl_lahir, jenis_kelamin, kode_wilayah) as
    case
        when source = 'bpjs_membership' then 'noka:' || noka
        when source = 'dinsos_pbi' then 'pbi:' || concat_ws(
            '|',
            regexp_replace(upper(strip_accents(coalesce(nama, ''))), '[^A-Z]+', '', 'g'),
            coalesce(strftime(tgl_lahir, '%Y-%m-%d'), ''),
            coalesce(jenis_kelamin, ''),
            coalesce(kode_wilayah, '')
        )
    end;
create or replace temp macro jkn_pair_fingerprint(
    period, source, line, record_nik, record_nama, record_tgl_lahir,
    candidate_nik, candidate_nama, candidate_tgl_lahir
) as left(sha256(concat_ws(
    '|',
    strftime(period, '%Y-%m'),
    source,
    line::varchar,
    coalesce(record_nik, ''),
    coalesce(record_nama, ''),
    coalesce(strftime(record_tgl_lahir, '%Y-%m-%d'), ''),
    coalesce(candidate_nik, ''),
    coalesce(candidate_nama, ''),
    coalesce(strftime(candidate_tgl_lahir, '%Y-%m-%d'), '')
)), 16);
