-- 0049 adjustment requests expire. A pending request older than its brand's
-- settings.adjustment_request_expiry_hours (default 72) can no longer be approved: the
-- approval (or rejection) that finds it so marks it 'expired' in its own ledger command
-- (decided_at set, decided_by NULL: nobody decided it), audited as
-- player.adjust_expire with the event balance.adjustment_expired. A request past its
-- time that nobody has touched stays 'pending' here; the API shows it as expired
-- (src/api/admin_adjust_4eyes.c). The CHECK on status admits 'expired'; SQLite cannot
-- change a CHECK in place, so the table is restated: rows (with their ids, the list's
-- cursor), constraints and indexes are kept as 0048 made them.
CREATE TABLE adjustment_request_0049 (
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
                    CHECK (status IN ('pending', 'approved', 'rejected', 'failed', 'expired')),
    decided_by      TEXT,               -- staff public id; NULL when expired
    decided_at      INTEGER,
    decision_reason TEXT,
    transfer_id     TEXT,
    failure         TEXT,
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status <> 'expired' OR decided_by IS NULL),
    UNIQUE (brand, idempotency_key)
);
INSERT INTO adjustment_request_0049 (id, public_id, brand, player, balance, direction, amount,
                                     currency, reason, idempotency_key, requested_by,
                                     requested_at, status, decided_by, decided_at,
                                     decision_reason, transfer_id, failure)
    SELECT id, public_id, brand, player, balance, direction, amount, currency, reason,
           idempotency_key, requested_by, requested_at, status, decided_by, decided_at,
           decision_reason, transfer_id, failure
    FROM adjustment_request ORDER BY id;
DROP TABLE adjustment_request;
ALTER TABLE adjustment_request_0049 RENAME TO adjustment_request;
CREATE INDEX adjustment_request_status ON adjustment_request (status, id);
CREATE INDEX adjustment_request_brand ON adjustment_request (brand, id);
