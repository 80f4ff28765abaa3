-- 0053 The pending unclaimed-funds settlement requests of a brand by age: what serve's
-- expiry sweep (src/api/admin_request_sweep.c) now reads every pass, as 0052 does for
-- the adjustment requests. Since 0051 a settlement request pending past its brand's
-- settings.unclaimed_settlement_expiry_hours was stored 'expired' only when an
-- approval or rejection touched it; the sweep now marks the untouched ones, asking per
-- brand for the pending requests made at or before now - expiry, oldest first, a batch
-- at a time. Over 0051's (brand, id) that read would walk every request the brand ever
-- made (decided ones included) each pass; over this partial index it reads the due
-- ones of the brand only.
-- Cost: the index holds pending rows only, so a request costs one index entry written
-- when it is made and one removed when it is decided or expires (two small b-tree
-- writes in its life); decided requests, the bulk of the table, take no room in it.
-- Building it reads the table once (small: settlements are rare).
CREATE INDEX unclaimed_settlement_request_pending
    ON unclaimed_settlement_request (brand, requested_at) WHERE status = 'pending';
