-- 0016 pending mark: the open-pending projection is written back lazily too.
--
-- ledger_pending_open lists open pending transfers (for the expiry sweep and
-- for resolving a hold the writer does not have in memory). Like the balance
-- rows (0008), it lags: a hold that is posted or voided within a second never
-- reaches the table at all, and one that stays open is written once it is a
-- second old. pending_seq says how far the table is exact: every pending
-- transfer with seq <= pending_seq that is still open is in it, and the table
-- never lists a resolved one. After a crash the writer replays the transfers
-- above pending_seq to find the open holds the table lacks.
ALTER TABLE ledger_state ADD COLUMN pending_seq INTEGER NOT NULL DEFAULT 0;
UPDATE ledger_state SET pending_seq = (SELECT coalesce(max(seq), 0) FROM ledger_transfer);
