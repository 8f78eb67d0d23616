-- name:    link_decisions (temp) — decide: link, review or no link, one per record
-- grain:   one row per record that had at least one candidate
-- columns: rec_id, source, line, nik (best candidate), score, runner_up (second-best score,
--          null when alone), decision ('link': score ≥ link_threshold and ahead of the
--          runner-up by ≥ margin; 'review': score ≥ review_threshold otherwise — never linked
--          automatically; 'none'), evidence (the best pair's comparison levels and rules)
create or replace temp table link_decisions as
with ranked as (
    select
        s.*,
        row_number() over (partition by rec_id order by score desc, nik) as rank,
        lead(score) over (partition by rec_id order by score desc, nik) as runner_up
    from link_scores as s
),

final as (
    select
        b.rec_id,
        r.source,
        r.line,
        b.nik,
        b.score,
        b.runner_up,
        case
            when b.score >= $link_threshold
                and (b.runner_up is null or b.score - b.runner_up >= $margin) then 'link'
            when b.score >= $review_threshold then 'review'
            else 'none'
        end as decision,
        {
            'name': b.name_level, 'dob': b.dob_level, 'nik': b.nik_level,
            'sex': b.sex_level, 'place': b.place_level, 'no_kk': b.no_kk_level,
            'rules': jkn_rule_names(b.rule_bits)
        } as evidence
    from ranked as b
    inner join link_records as r on r.rec_id = b.rec_id
    where b.rank = 1
)

select * from final
