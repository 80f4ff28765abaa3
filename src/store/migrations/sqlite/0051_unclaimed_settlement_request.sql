-- 0051 4-eyes for settlements of a brand's unclaimed funds (src/api/admin_unclaimed_settle.c).
-- Money leaving the unclaimed_funds account (remitted to an authority, or recognised by the
-- house) on one member's say is a control weakness, so every settlement is now a request that
-- waits here (status 'pending') until a second member with finance.adjust approves it (the
-- ledger transfer is made then, in the same ledger command as the status change, under the
-- request's idempotency key in scope "unclaimed:<brand>") or rejects it. Final states:
-- 'approved' (transfer_id set), 'rejected' (decision_reason set), 'expired' (pending longer
-- than the brand's settings.unclaimed_settlement_expiry_hours when an approval or rejection
-- found it: decided_at set, decided_by NULL), 'failed' (the ledger refused the transfer for
-- good at approval: failure holds its error code; the key is spent), as 0048/0049's
-- adjustment_request has them. idempotency_key is unique per brand, as the ledger's key is.
-- transfer_id is indexed (unique where set): the unclaimed-funds list finds a settlement
-- entry's request (its reference and id) from its transfer. Cost: a new, empty table and three
-- small indexes; nothing existing is rewritten.
CREATE TABLE unclaimed_settlement_request (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT    NOT NULL UNIQUE,   -- time-ordered (pb_id_new)
    brand           TEXT    NOT NULL,   -- brand code
    currency        TEXT    NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),   -- minor units of currency
    destination     TEXT    NOT NULL CHECK (destination IN ('remitted', 'house')),
    reference       TEXT,               -- required for a remittance
    reason          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    requested_by    TEXT    NOT NULL,   -- staff public id
    requested_at    INTEGER NOT NULL,   -- unix µs
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected', 'failed', 'expired')),
    decided_by      TEXT,               -- staff public id; NULL when expired
    decided_at      INTEGER,
    decision_reason TEXT,
    transfer_id     TEXT,
    failure         TEXT,
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status <> 'expired' OR decided_by IS NULL),
    CHECK (destination <> 'remitted' OR reference IS NOT NULL),
    UNIQUE (brand, idempotency_key)
);
CREATE INDEX unclaimed_settlement_request_brand ON unclaimed_settlement_request (brand, id);
CREATE UNIQUE INDEX unclaimed_settlement_request_transfer
    ON unclaimed_settlement_request (transfer_id) WHERE transfer_id IS NOT NULL;
