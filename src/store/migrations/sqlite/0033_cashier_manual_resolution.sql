-- 0033 cashier manual resolution: a stuck payout the PSP cannot report on (the
-- PSP removed from the configuration, the payout lost by its API, the PSP gone)
-- is settled by finance with 4-eyes: one member states the outcome established
-- out of band ("paid" / "failed", a reason and an evidence reference), a second
-- confirms the same outcome, and only then the hold is posted or voided. The
-- statement waiting for its confirmation is one row per withdrawal (at most one
-- open at a time); it is deleted when confirmed, withdrawn, or when the
-- withdrawal settles otherwise (a webhook, an automatic resolve). The history
-- (statement, confirmation, withdrawal, effect) is in the audit log.
CREATE TABLE withdrawal_manual_resolution (
    withdrawal_id TEXT    NOT NULL PRIMARY KEY,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('paid', 'failed')),
    reason        TEXT    NOT NULL,
    evidence      TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,   -- staff public id of the member who stated it
    role          TEXT    NOT NULL,
    from_status   TEXT    NOT NULL,   -- the withdrawal's status when stated
    stated_at     INTEGER NOT NULL
) WITHOUT ROWID;
