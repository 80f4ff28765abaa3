-- 0042 ledger anchors: the ledger's state signed, now and then, with the audit
-- signing key (KEYS_DIR/audit-ed25519.key), which is not in the database. An
-- anchor vouches for the transfer chain head (transfer_seq and that transfer's
-- hash: a rewritten or truncated history no longer matches it) and for the
-- immutable fields of the accounts with accounts_after < id <= account_upto
-- (accounts_digest: SHA-256 over brand, owner, kind, currency, flags and
-- created_at of each, in id order; src/ledger/anchor.c). signature is Ed25519
-- over "pitboss-ledger-anchor-v1" and every other column but key_id (derived
-- from public_key). INSERT-only; written by `pitboss serve`, checked by
-- `pitboss ledger verify`.
CREATE TABLE ledger_anchor (
    id              INTEGER PRIMARY KEY,
    transfer_seq    INTEGER NOT NULL,
    transfer_hash   BLOB    NOT NULL,
    accounts_after  INTEGER NOT NULL,
    account_upto    INTEGER NOT NULL,
    accounts_digest BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    key_id          TEXT    NOT NULL,
    public_key      BLOB    NOT NULL,
    signature       BLOB    NOT NULL
);
