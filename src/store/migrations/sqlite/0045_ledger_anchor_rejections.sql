-- 0045 ledger anchors cover the remembered rejections. A ledger_rejection row
-- keeps a once-refused idempotency key refused (its replay gets the same
-- refusal); deleted by SQL, the key could later succeed, and nothing noticed.
-- The rows get an append-only order, seq (the rowid: SQLite gives each new row
-- the highest seq + 1; the rows already there are numbered in created_at order),
-- and each anchor now also signs the rejections recorded since the previous one:
-- rejections_after < seq <= rejection_upto and rejections_digest (SHA-256 over
-- every column of each, in seq order; src/ledger/anchor.c). Anchors written
-- before this migration have the three columns NULL: they sign what they
-- signed, and the first anchor after it covers every rejection from seq 1.
CREATE TABLE ledger_rejection_0045 (
    seq               INTEGER PRIMARY KEY,
    scope             TEXT    NOT NULL,
    ikey              TEXT    NOT NULL,
    debit_account_id  INTEGER NOT NULL,
    credit_account_id INTEGER NOT NULL,
    amount            INTEGER NOT NULL,
    currency          TEXT    NOT NULL,
    code              INTEGER NOT NULL,
    flags             INTEGER NOT NULL,
    pending_id        BLOB,
    timeout_s         INTEGER NOT NULL DEFAULT 0,
    reference         TEXT    NOT NULL DEFAULT '',
    error             TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (scope, ikey)
);
INSERT INTO ledger_rejection_0045 (scope, ikey, debit_account_id, credit_account_id, amount,
                                   currency, code, flags, pending_id, timeout_s, reference,
                                   error, created_at)
    SELECT scope, ikey, debit_account_id, credit_account_id, amount, currency, code, flags,
           pending_id, timeout_s, reference, error, created_at
    FROM ledger_rejection ORDER BY created_at, scope, ikey;
DROP TABLE ledger_rejection;
ALTER TABLE ledger_rejection_0045 RENAME TO ledger_rejection;

ALTER TABLE ledger_anchor ADD COLUMN rejections_after  INTEGER;
ALTER TABLE ledger_anchor ADD COLUMN rejection_upto    INTEGER;
ALTER TABLE ledger_anchor ADD COLUMN rejections_digest BLOB;
