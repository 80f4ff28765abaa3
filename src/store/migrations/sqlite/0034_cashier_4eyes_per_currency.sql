-- 0034 cashier 4-eyes threshold per currency: the brand setting
-- "withdrawal_4eyes_threshold" was one number of minor units for every currency
-- (100000 = 1,000.00 EUR but 100,000 JPY and 100.000 KWD). It becomes
-- "withdrawal_4eyes_thresholds", an object currency code -> minor units, and a
-- currency without an entry needs two approvals (fail-safe). What a brand had is
-- kept for its default currency: its own value, or the former built-in default
-- (100000) when it had none, so no brand's withdrawals in its default currency
-- change; its other currencies need two approvals until staff set theirs.
-- (The keys stay in sorted order: "withdrawal_4eyes_thresholds" sorts last.)
UPDATE brand
   SET settings = json_set(json_remove(settings, '$.withdrawal_4eyes_threshold'),
                           '$.withdrawal_4eyes_thresholds',
                           json_object(default_currency,
                                       coalesce(json_extract(settings, '$.withdrawal_4eyes_threshold'),
                                                100000)))
 WHERE json_extract(settings, '$.withdrawal_4eyes_thresholds') IS NULL;
