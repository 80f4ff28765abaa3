-- 0001 ledger: accounts, their balance projection, append-only transfers,
-- remembered rejections (idempotency of failures) and the open-pending projection.
-- Times are int64 microseconds since the Unix epoch (UTC). Amounts are int64
-- minor units of the account's currency.

CREATE TABLE ledger_account (
    id          INTEGER PRIMARY KEY,
    brand       TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    flags       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (brand, owner, kind, currency)
);

-- The balance projection: one narrow row per account, updated in the same
-- transaction as the transfers that move it. last_seq heads the account's chain
-- of transfers (each transfer names the previous one of each of its accounts).
CREATE TABLE ledger_balance (
    account_id      INTEGER PRIMARY KEY,
    debits_pending  INTEGER NOT NULL DEFAULT 0,
    debits_posted   INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    credits_posted  INTEGER NOT NULL DEFAULT 0,
    last_seq        INTEGER NOT NULL DEFAULT 0
);

-- INSERT-only. seq is the global order and the order of the hash chain.
CREATE TABLE ledger_transfer (
    seq               INTEGER PRIMARY KEY,
    id                BLOB    NOT NULL,
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
    expires_at        INTEGER NOT NULL DEFAULT 0,
    reference         TEXT    NOT NULL DEFAULT '',
    trace_id          TEXT    NOT NULL DEFAULT '',
    debit_prev_seq    INTEGER NOT NULL DEFAULT 0,
    credit_prev_seq   INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    hash              BLOB    NOT NULL
);
CREATE UNIQUE INDEX ledger_transfer_id ON ledger_transfer (id);
CREATE UNIQUE INDEX ledger_transfer_key ON ledger_transfer (scope, ikey);
-- a pending transfer is resolved (posted, voided or expired) at most once
CREATE UNIQUE INDEX ledger_transfer_pending ON ledger_transfer (pending_id)
    WHERE pending_id IS NOT NULL;

-- Requests rejected for a business reason: the key stays rejected with the same code.
CREATE TABLE ledger_rejection (
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
    PRIMARY KEY (scope, ikey)
) WITHOUT ROWID;

-- Open pending transfers (a projection, rebuilt and checked by ledger verify).
CREATE TABLE ledger_pending_open (
    transfer_seq INTEGER PRIMARY KEY,
    expires_at   INTEGER NOT NULL  -- 0: never
);
CREATE INDEX ledger_pending_open_expiry ON ledger_pending_open (expires_at)
    WHERE expires_at > 0;
