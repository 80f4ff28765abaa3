-- 0047 a member's standing withdrawal approvals, found by member: when a staff member
-- is disabled, loses finance.withdrawals.approve or loses a brand from their scope, the
-- admin staff route judges their standing approvals again in the same transaction
-- (pb_cashier_staff_approvals_judge, src/cashier/approvals.c), and reads them by
-- staff_id. Partial: lapsed approvals are never looked for again.
CREATE INDEX withdrawal_approval_standing_by_staff ON withdrawal_approval (staff_id, withdrawal_id)
    WHERE lapsed_at IS NULL;
