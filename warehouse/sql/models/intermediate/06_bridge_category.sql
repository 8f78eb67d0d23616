-- name:    bridge_category (temp macro)
-- grain:   one value per BPJS row (int_bpjs_cards) × level where it is registered
-- columns: the row's coverage-bridge category at the level whose codes have `digits` digits
--          (DOMAIN.md's order: quarantined → duplicate → deceased → moved_out →
--          domiciled_elsewhere → not_in_population → resident), from the three facts of
--          int_bpjs_cards: a duplicate there (the row's duplicate_digits reach the level),
--          its status category where it is the card kept, and whether Dukcapil domiciles the
--          person in the region (the row's domicile_digits reach the level)
-- The one home of how the bridge depends on the level: the bridge's roll-up and the cleanup
-- list both apply it.
create or replace temp macro bridge_category(
    digits, duplicate_digits, status_category, domicile_digits
) as case
    -- a quarantined row is never ranked (no duplicate_digits): 'quarantined' comes first
    when digits <= duplicate_digits then 'duplicate'
    when status_category is not null then status_category
    when digits <= domicile_digits then 'resident'
    -- alive, but not (readably) domiciled here: not in this region's population
    else 'domiciled_elsewhere'
end
