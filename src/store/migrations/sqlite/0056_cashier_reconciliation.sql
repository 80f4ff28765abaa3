-- 0056 cashier reconciliation: a PSP's settlement report compared with our payments and
-- withdrawals (src/cashier/reconcile.c). Every operator reconciles daily: a deposit the PSP
-- collected whose webhook never came (the player paid, was never credited), a payout we
-- booked paid that the PSP never paid (or the other way round), an amount that differs.
-- A run never moves money; it stores what it found for finance, who fix it with the
-- existing tools (adjustments, manual resolution).
--
-- reconciliation: one row per run, written with its items, its audit entry
-- (reconciliation.run) and its event (reconciliation.completed) in one ledger command.
-- period [period_from, period_to) in µs UTC; source 'fetch' (the adapter asked the PSP) or
-- 'upload' (finance uploaded the PSP's file); run_by the staff public id; psp_rows the
-- report's rows inside the period, psp_rows_outside those of an uploaded file outside it
-- (not compared: a wrong file shows here); the counts per class (matched rows are counted,
-- never stored). INSERT-only.
--
-- reconciliation_item: the discrepancies of a run, numbered n = 1.. in the order found:
-- class missing_ours (the PSP has a reference we do not: brand NULL), status_mismatch,
-- amount_mismatch (amount or currency), missing_psp (ours completed or paid in the period,
-- not in the report: psp_* NULL). brand_id lets a brand-scoped member read only the items
-- of their brands. INSERT-only.
--
-- Two partial indexes for the missing_psp side, which reads our rows settled in the
-- period by PSP: payments completed, withdrawals paid or returned, by (psp, updated_at)
-- (updated_at is when a completed payment completed, a paid withdrawal was paid and a
-- returned one came back: each is a final state). Cost: both built once over the
-- completed payments and the settled withdrawals (one read of each table); afterwards one
-- index entry written when a payment completes or a withdrawal is paid or returned. The
-- two tables are new and empty.
CREATE TABLE reconciliation (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT    NOT NULL UNIQUE,   -- public UUIDv7
    psp                 TEXT    NOT NULL,
    period_from         INTEGER NOT NULL,
    period_to           INTEGER NOT NULL CHECK (period_to > period_from),
    source              TEXT    NOT NULL CHECK (source IN ('fetch', 'upload')),
    run_by              TEXT    NOT NULL,          -- staff public id
    psp_rows            INTEGER NOT NULL,
    psp_rows_outside    INTEGER NOT NULL,
    matched             INTEGER NOT NULL,
    missing_ours        INTEGER NOT NULL,
    status_mismatch     INTEGER NOT NULL,
    amount_mismatch     INTEGER NOT NULL,
    missing_psp         INTEGER NOT NULL,
    created_at          INTEGER NOT NULL
);

CREATE TABLE reconciliation_item (
    reconciliation_seq  INTEGER NOT NULL REFERENCES reconciliation (seq),
    n                   INTEGER NOT NULL,
    class               TEXT    NOT NULL CHECK (class IN ('missing_ours', 'status_mismatch',
                                                          'amount_mismatch', 'missing_psp')),
    kind                TEXT    NOT NULL CHECK (kind IN ('deposit', 'payout', 'payout_return')),
    reference           TEXT    NOT NULL,
    brand_id            INTEGER,                   -- ours; NULL for missing_ours
    brand               TEXT,
    our_id              TEXT,                      -- the payment's or withdrawal's public id
    our_status          TEXT,
    our_amount          INTEGER,
    our_currency        TEXT,
    psp_status          TEXT,                      -- NULL for missing_psp
    psp_amount          INTEGER,
    psp_currency        TEXT,
    psp_settled_at      INTEGER,
    PRIMARY KEY (reconciliation_seq, n)
) WITHOUT ROWID;

CREATE INDEX payment_completed_psp ON payment (psp, updated_at) WHERE status = 'completed';
CREATE INDEX withdrawal_settled_psp ON withdrawal (psp, updated_at)
    WHERE status IN ('paid', 'returned');
