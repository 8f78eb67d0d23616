-- name:    card_keys (temp): the keys of persons known only by their cards, carried over
-- grain:   one row per person this period whose key is a card's ('card:<NOKA>': no Dukcapil
--          person is theirs) and whose key changes
-- columns: own_key (this period's key: the smallest NOKA of the person's cards), person_key
--          (the key to keep)
-- A person Dukcapil does not know keeps the key they had in the last month built before this
-- one, wherever one of their cards carried it (a card's key, or the NIK their clustered cards
-- carried): a new card (even one with a smaller NOKA), a lost card (even the one whose NOKA
-- or NIK named them) or a re-ordered file leave it unchanged.
-- When several of this month's persons claim one earlier key (the earlier person's cards now
-- split), the one holding the card whose NOKA the key names keeps it, else the one with the
-- smallest own key; the others keep their own.
create or replace temp table card_keys as
with this_month as (
    select p.person_key as own_key, s.noka
    from intermediate.row_person as p
    inner join staging.bpjs_membership as s on s.period = p.period and s.line = p.line
    where p.period = $period and p.source = 'bpjs_membership'
      and starts_with(p.person_key, 'card:')
),

last_month as (
    select max(period) as period from intermediate.row_person where period < $period
),

earlier as (
    select distinct s.noka, p.person_key as earlier_key
    from intermediate.row_person as p
    inner join last_month as m on m.period = p.period
    inner join staging.bpjs_membership as s on s.period = p.period and s.line = p.line
    where p.source = 'bpjs_membership'
      and (starts_with(p.person_key, 'card:') or p.method = 'clustered')
),

claims as (
    -- a person whose cards carried several earlier keys (two earlier persons now one) takes
    -- the smallest
    select
        t.own_key,
        min(e.earlier_key) as earlier_key,
        bool_or(e.earlier_key = 'card:' || t.noka) as holds_named_card
    from this_month as t
    inner join earlier as e on e.noka = t.noka
    group by t.own_key
),

ranked as (
    select
        own_key,
        earlier_key,
        row_number() over (
            partition by earlier_key order by holds_named_card desc, own_key
        ) as claim
    from claims
),

kept as (
    select own_key, earlier_key as person_key from ranked where claim = 1
),

final as (
    -- a person who lost the claim keeps their own key unless a winner took it
    select own_key, person_key from kept where person_key <> own_key
    union all
    select r.own_key, r.own_key || '#' || r.claim as person_key
    from ranked as r
    where r.claim > 1 and r.own_key in (select person_key from kept)
)

select * from final
