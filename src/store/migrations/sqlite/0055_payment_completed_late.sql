-- 0055 Whether a deposit completed late (the PSP's success after its intent had
-- expired), stored when it completes. Until now the staff answers computed it on
-- every read from the brand's deposit_expiry_minutes as it is now, so changing the
-- setting later rewrote history: raise it and a late completion read on time, lower
-- it and an on-time one read late. The completion (src/cashier/webhook.c) already
-- decides it in its transaction (the audit entry payment.completed with the reason
-- "late completion: ..."); it now sets this column in the same transaction, and
-- every reader (GET /v1/admin/payments, the player data export) reads it.
-- Backfill: from what was recorded at the time, never from today's setting — a
-- completed payment whose payment.completed audit entry carries that reason (the
-- only entry written with it, word for word since deposits began to expire).
-- Cost: ADD COLUMN with a constant default rewrites nothing (SQLite reads the
-- default for the old rows); the backfill reads the payment.completed audit
-- entries once over audit_entry_action and updates the late ones (few) by
-- payment.id's unique index. Afterwards nothing: the flag is written in the
-- UPDATE the completion already makes.
ALTER TABLE payment ADD COLUMN completed_late INTEGER NOT NULL DEFAULT 0
    CHECK (completed_late IN (0, 1));
UPDATE payment SET completed_late = 1
 WHERE status = 'completed'
   AND id IN (SELECT target_id FROM audit_entry
               WHERE action = 'payment.completed' AND target_kind = 'payment'
                 AND reason LIKE 'late completion:%');
