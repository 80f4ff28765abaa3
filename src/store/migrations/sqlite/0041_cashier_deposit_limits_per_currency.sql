-- 0041 cashier deposit limits per currency: the brand settings "deposit_min" and
-- "deposit_max" were one number of minor units for every currency (1000 = 10.00
-- EUR but 1,000 JPY, 1.000 KWD and 0.00001 BTC). They become "deposit_mins" and
-- "deposit_maxes", objects currency code -> minor units of that currency; a
-- currency without an entry gets the built-in limits (100 and 100000000 minor
-- units), as every deposit of a brand that never set limits did before.
-- What a brand had is kept for EVERY currency it accepts (its brand_currency rows
-- and its default currency), not only the default: a currency left without an
-- entry would fall back to the built-in limits, silently loosening a maximum
-- the operator set (a 500.00 cap becoming 1,000,000.00 in USD), so no brand's
-- deposits change in any currency; staff then set each currency's own values.
-- A brand that set none gets no entry (it keeps the built-in limits).
-- Settings are stored canonically (compact, keys sorted), and json_set would
-- append the new keys after "erase_after_days" and the rest: the object is
-- rebuilt in key order instead. An object value goes through json() so it stays
-- an object, not a string, whatever the sorter does to its JSON subtype.
UPDATE brand
   SET settings = (
       SELECT json_group_object(k, CASE WHEN t IN ('object', 'array') THEN json(v) ELSE v END)
         FROM (SELECT key AS k, value AS v, type AS t
                 FROM json_each(brand.settings)
                WHERE key NOT IN ('deposit_min', 'deposit_max')
               UNION ALL
               SELECT n.k, (SELECT json_group_object(cur, json_extract(brand.settings, n.p))
                              FROM (SELECT currency AS cur FROM brand_currency
                                     WHERE brand_id = brand.id
                                    UNION
                                    SELECT brand.default_currency
                                     ORDER BY cur)), 'object'
                 FROM (SELECT 'deposit_mins' AS k, '$.deposit_min' AS p
                       UNION ALL
                       SELECT 'deposit_maxes', '$.deposit_max') AS n
                WHERE json_extract(brand.settings, n.p) IS NOT NULL
                  AND json_extract(brand.settings, '$.' || n.k) IS NULL
                ORDER BY k))
 WHERE json_extract(settings, '$.deposit_min') IS NOT NULL
    OR json_extract(settings, '$.deposit_max') IS NOT NULL;
