-- 0020 cashier lists: the indexes the payment and withdrawal lists need when they
-- filter by status and no player (the staff queue, GET /v1/admin/withdrawals?status=;
-- the payout retry's pass over the approved withdrawals, every 30 s). Before, such a
-- list read the whole table newest first until it had a page: a full scan of every
-- withdrawal ever made each time the queue was opened or the retry ran. An index on
-- status alone holds (status, seq): equal statuses in seq order, so the list walks
-- its status backwards from the newest and stops at a page. Written only when a
-- payment or withdrawal is created or changes status.
CREATE INDEX payment_status ON payment (status);
CREATE INDEX withdrawal_status ON withdrawal (status);
