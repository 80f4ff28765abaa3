-- 0039 cashier payout return deferred: a payout.returned the PSP delivers before
-- the payout.paid of the same payout (webhooks arrive in any order) is recorded
-- with the new outcome 'deferred' and applied when the payout is paid (the
-- withdrawal then ends 'returned', the money credited back once). SQLite cannot
-- change a CHECK in place, so the table is rebuilt: columns, rows and the unique
-- key unchanged, the outcome CHECK with 'deferred' added, and a small partial
-- index by which the paid payout finds its deferred return.
CREATE TABLE payment_event_0039 (
    seq          INTEGER PRIMARY KEY,
    psp          TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    reference    TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    payload_hash BLOB    NOT NULL,             -- SHA-256 of the raw body
    outcome      TEXT    NOT NULL CHECK (outcome IN ('applied', 'ignored', 'mismatch',
                                                     'deferred')),
    received_at  INTEGER NOT NULL
);
INSERT INTO payment_event_0039 (seq, psp, event_id, type, reference, amount, currency,
                                payload_hash, outcome, received_at)
    SELECT seq, psp, event_id, type, reference, amount, currency, payload_hash, outcome,
           received_at
      FROM payment_event;
DROP TABLE payment_event;
ALTER TABLE payment_event_0039 RENAME TO payment_event;
CREATE UNIQUE INDEX payment_event_id ON payment_event (psp, event_id);
CREATE INDEX payment_event_deferred ON payment_event (psp, reference)
    WHERE outcome = 'deferred';
