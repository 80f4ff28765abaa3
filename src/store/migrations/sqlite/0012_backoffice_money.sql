-- 0012 back office, money: the indexes the dashboard snapshot needs
-- (GET /v1/admin/dashboard, src/store/sqlite/sqlite_backoffice_money.c).
-- Times are int64 microseconds since the Unix epoch (UTC).

-- Accepted game money of a brand since a time (bets, wins, rollbacks of the
-- last 48 hours at most). created_at only grows, so inserts append at the end.
CREATE INDEX wallet_op_brand_time ON wallet_op (brand, created_at);
-- Deposits completed since a time: a completed payment's updated_at is when it
-- completed (it is final then).
CREATE INDEX payment_completed ON payment (brand, updated_at) WHERE status = 'completed';
-- Withdrawals paid since a time (paid is final: updated_at is when it was paid).
CREATE INDEX withdrawal_paid ON withdrawal (brand, updated_at) WHERE status = 'paid';
-- Withdrawals not final yet, per brand.
CREATE INDEX withdrawal_open ON withdrawal (brand, currency)
    WHERE status IN ('pending_approval', 'approved', 'processing');
