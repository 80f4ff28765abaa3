-- 0038 cashier withdrawal returned: a payout the PSP paid and later reports
-- returned (the bank sent the money back: "payout.returned") ends in a new final
-- state 'returned', the amount credited back to the player's cash by a transfer
-- PSP clearing → player cash. SQLite cannot change a CHECK in place, so the table
-- is rebuilt as 0029 did for game_round: columns, rows, keys and indexes
-- unchanged, the status CHECK with 'returned' added.
CREATE TABLE withdrawal_0038 (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,  -- public UUIDv7
    brand_id           INTEGER NOT NULL,
    brand              TEXT    NOT NULL,
    player             TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    amount             INTEGER NOT NULL CHECK (amount > 0),
    idempotency_key    TEXT    NOT NULL,
    hold_id            BLOB    NOT NULL,
    approvals_required INTEGER NOT NULL CHECK (approvals_required IN (1, 2)),
    requested_by       TEXT    NOT NULL,
    checks             TEXT    NOT NULL DEFAULT '[]',
    status             TEXT    NOT NULL CHECK (status IN ('pending_approval', 'approved',
                           'processing', 'paid', 'failed', 'rejected', 'cancelled',
                           'returned')),
    psp                TEXT    NOT NULL,
    psp_reference      TEXT    NOT NULL DEFAULT '',  -- the payout's, once sent
    reason             TEXT    NOT NULL DEFAULT '',  -- rejection reason
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
INSERT INTO withdrawal_0038 (seq, id, brand_id, brand, player, currency, amount,
                             idempotency_key, hold_id, approvals_required, requested_by,
                             checks, status, psp, psp_reference, reason, created_at,
                             updated_at)
    SELECT seq, id, brand_id, brand, player, currency, amount, idempotency_key, hold_id,
           approvals_required, requested_by, checks, status, psp, psp_reference, reason,
           created_at, updated_at
      FROM withdrawal;
DROP TABLE withdrawal;
ALTER TABLE withdrawal_0038 RENAME TO withdrawal;
CREATE UNIQUE INDEX withdrawal_player_key ON withdrawal (player, idempotency_key);
CREATE INDEX withdrawal_brand_status ON withdrawal (brand_id, status);
CREATE INDEX withdrawal_player ON withdrawal (player);
CREATE UNIQUE INDEX withdrawal_psp_reference ON withdrawal (psp, psp_reference)
    WHERE psp_reference <> '';
CREATE INDEX withdrawal_paid ON withdrawal (brand, updated_at) WHERE status = 'paid';
CREATE INDEX withdrawal_open ON withdrawal (brand, currency)
    WHERE status IN ('pending_approval', 'approved', 'processing');
CREATE INDEX withdrawal_status ON withdrawal (status);
