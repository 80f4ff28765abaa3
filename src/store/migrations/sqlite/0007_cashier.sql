-- 0007 cashier: deposits through a payment service provider (PSP), the PSP's
-- webhook events, withdrawals with their holds and the finance approvals of the
-- 4-eyes rule. Written by the cashier's ledger commands (src/cashier/) in the
-- same transaction as their transfers and audit entries. Times are int64
-- microseconds since the Unix epoch (UTC); amounts are int64 minor units.

-- A deposit: created pending when the player asks, completed or failed by the
-- PSP's webhook. The credit to the player is the ledger transfer transfer_id
-- (scope "deposit", key = id), so it can happen once only.
CREATE TABLE payment (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,  -- public UUIDv7
    brand_id        INTEGER NOT NULL,
    brand           TEXT    NOT NULL,          -- brand code
    player          TEXT    NOT NULL,          -- player public id
    currency        TEXT    NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    idempotency_key TEXT    NOT NULL,
    psp             TEXT    NOT NULL,
    psp_reference   TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    transfer_id     BLOB,                      -- the credit, once completed
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX payment_psp_reference ON payment (psp, psp_reference);
CREATE UNIQUE INDEX payment_player_key ON payment (player, idempotency_key);
CREATE INDEX payment_brand_status ON payment (brand_id, status);
CREATE INDEX payment_player ON payment (player);

-- Every webhook event a PSP delivered and that was verified, once: a second
-- delivery of the same (psp, event_id) is recognised here and changes nothing.
-- outcome: 'applied' (it changed a payment or withdrawal), 'ignored' (it came
-- too late: e.g. deposit.failed after deposit.succeeded) or 'mismatch' (its
-- amount or currency is not the payment's: nothing moved, audited for an
-- operator). amount/currency: what the event said. INSERT-only.
CREATE TABLE payment_event (
    seq          INTEGER PRIMARY KEY,
    psp          TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    reference    TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    payload_hash BLOB    NOT NULL,             -- SHA-256 of the raw body
    outcome      TEXT    NOT NULL CHECK (outcome IN ('applied', 'ignored', 'mismatch')),
    received_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX payment_event_id ON payment_event (psp, event_id);

-- A withdrawal: the amount is held (a pending ledger transfer hold_id, player
-- cash → PSP clearing) from the request until it is paid (hold posted) or
-- rejected, cancelled or failed (hold voided). requested_by: "player:<id>" (or,
-- later, "staff:<id>" for a request made on the player's behalf: that member
-- may not approve it). checks: the JSON array of the checks the request passed.
CREATE TABLE withdrawal (
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
                           'processing', 'paid', 'failed', 'rejected', 'cancelled')),
    psp                TEXT    NOT NULL,
    psp_reference      TEXT    NOT NULL DEFAULT '',  -- the payout's, once sent
    reason             TEXT    NOT NULL DEFAULT '',  -- rejection reason
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX withdrawal_player_key ON withdrawal (player, idempotency_key);
CREATE INDEX withdrawal_brand_status ON withdrawal (brand_id, status);
CREATE INDEX withdrawal_player ON withdrawal (player);
CREATE UNIQUE INDEX withdrawal_psp_reference ON withdrawal (psp, psp_reference)
    WHERE psp_reference <> '';

-- One finance approval of a withdrawal; a member approves a withdrawal once.
CREATE TABLE withdrawal_approval (
    withdrawal_id TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,   -- staff public id
    role          TEXT    NOT NULL,
    approved_at   INTEGER NOT NULL,
    PRIMARY KEY (withdrawal_id, staff_id)
);
