-- 0048 4-eyes for large staff adjustments. An adjustment at or above its brand's
-- settings.adjustment_4eyes_thresholds entry for its currency is not applied at once:
-- it waits here (status 'pending') until a second member with finance.adjust approves
-- it (its ledger transfer is made then, in the same ledger command as the status
-- change, under the request's idempotency key in scope "adjustment:<brand>") or
-- rejects it. Final states: 'approved' (transfer_id set), 'rejected' (decision_reason
-- set), 'failed' (the ledger refused the transfer for good at approval: failure holds
-- its error code; the key is spent). Below the threshold nothing is stored here.
-- idempotency_key is unique per brand, as the ledger's key of a direct adjustment is.
CREATE TABLE adjustment_request (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT    NOT NULL UNIQUE,
    brand           TEXT    NOT NULL,   -- brand code
    player          TEXT    NOT NULL,   -- player public id
    balance         TEXT    NOT NULL CHECK (balance IN ('cash', 'bonus')),
    direction       TEXT    NOT NULL CHECK (direction IN ('credit', 'debit')),
    amount          INTEGER NOT NULL CHECK (amount > 0),   -- minor units of currency
    currency        TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    requested_by    TEXT    NOT NULL,   -- staff public id
    requested_at    INTEGER NOT NULL,   -- unix µs
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected', 'failed')),
    decided_by      TEXT,               -- staff public id
    decided_at      INTEGER,
    decision_reason TEXT,
    transfer_id     TEXT,
    failure         TEXT,
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    UNIQUE (brand, idempotency_key)
);
CREATE INDEX adjustment_request_status ON adjustment_request (status, id);
CREATE INDEX adjustment_request_brand ON adjustment_request (brand, id);
