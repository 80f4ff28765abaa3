-- 0046 a withdrawal approval lapses when its member loses the right to give it.
-- An approval counts towards a withdrawal's approvals_required only while its member is
-- active, holds finance.withdrawals.approve and has the withdrawal's brand in scope
-- (src/cashier/approvals.c judges it at each approval and just before the payout is
-- sent). One that no longer does is marked here, never deleted: lapsed_at (unix µs;
-- NULL while it stands) and lapsed_reason ("staff_disabled", "permission_revoked",
-- "brand_out_of_scope", "staff_not_found"). Its member, once given the right back,
-- approves again: a new row. So the key is no longer (withdrawal_id, staff_id): a
-- rowid keeps the order approvals were given in, and a partial unique index keeps one
-- standing approval per member and withdrawal (a member still approves a withdrawal
-- once at a time). Rows and their order are copied unchanged.
CREATE TABLE withdrawal_approval_0046 (
    id            INTEGER PRIMARY KEY,
    withdrawal_id TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,   -- staff public id
    role          TEXT    NOT NULL,
    approved_at   INTEGER NOT NULL,
    lapsed_at     INTEGER,            -- NULL: the approval stands
    lapsed_reason TEXT,
    CHECK ((lapsed_at IS NULL) = (lapsed_reason IS NULL))
);
INSERT INTO withdrawal_approval_0046 (withdrawal_id, staff_id, role, approved_at)
    SELECT withdrawal_id, staff_id, role, approved_at FROM withdrawal_approval
    ORDER BY approved_at, rowid;
DROP TABLE withdrawal_approval;
ALTER TABLE withdrawal_approval_0046 RENAME TO withdrawal_approval;
CREATE INDEX withdrawal_approval_withdrawal ON withdrawal_approval (withdrawal_id);
CREATE UNIQUE INDEX withdrawal_approval_standing ON withdrawal_approval (withdrawal_id, staff_id)
    WHERE lapsed_at IS NULL;
