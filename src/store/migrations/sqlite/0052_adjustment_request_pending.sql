-- 0052 The pending adjustment requests of a brand by age: what the expiry sweep
-- (src/api/admin_adjust_expire.c) reads every pass. Since 0049 a pending request
-- past its brand's settings.adjustment_request_expiry_hours had to be touched (an
-- approval or rejection) to be stored 'expired'; serve's sweep now marks the
-- untouched ones, asking per brand for the pending requests made at or before
-- now - expiry, oldest first, a batch at a time. Over 0048's (status, id) it would
-- read every pending request of every brand each pass; over this partial index it
-- reads the due ones of the brand only. The list (GET /v1/admin/adjustments?status=)
-- now filters on the stored status and walks 0048's (status, id), so it reads
-- pending rows only too (sqlite_adjustment.c).
-- Cost: the index holds pending rows only, so a request costs one index entry
-- written when it is made and one removed when it is decided or expires (two small
-- b-tree writes in its life; none for an adjustment applied at once, which stores
-- no request); decided requests, the bulk of the table, take no room in it.
CREATE INDEX adjustment_request_pending ON adjustment_request (brand, requested_at)
    WHERE status = 'pending';
