-- 0004 audit: the tamper-evident audit log (see src/audit/audit.h and docs/audit-format.md).
-- Both tables are INSERT-only. Times are int64 microseconds since the Unix epoch (UTC).

-- One row per audited action: who (actor, role, brand), what (action, target,
-- before/after as JSON text), why (reason), and where from (trace id, ip).
-- seq is contiguous from 1 and orders the hash chain: hash = SHA-256 over a
-- domain tag, the previous entry's hash and every other column. `at` never
-- decreases along seq (the appender clamps it), so time ranges are seq ranges.
CREATE TABLE audit_entry (
    seq          INTEGER PRIMARY KEY,
    id           BLOB    NOT NULL,                 -- UUIDv7, 16 bytes
    at           INTEGER NOT NULL,
    actor_kind   TEXT    NOT NULL CHECK (actor_kind IN ('staff', 'player', 'system')),
    actor_id     TEXT    NOT NULL DEFAULT '',      -- '' only for an unknown actor (a failed login)
    actor_email  TEXT    NOT NULL DEFAULT '',
    role         TEXT    NOT NULL DEFAULT '',
    brand        TEXT    CHECK (brand IS NULL OR brand <> ''), -- NULL: a global action
    action       TEXT    NOT NULL,                 -- "player.block", "staff.login_failed", ...
    target_kind  TEXT    NOT NULL DEFAULT '',
    target_id    TEXT    NOT NULL DEFAULT '',
    before       TEXT,                             -- JSON text, NULL when there is no prior state
    after        TEXT,                             -- JSON text, NULL when there is no new state
    reason       TEXT    NOT NULL DEFAULT '',
    trace_id     TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    hash         BLOB    NOT NULL                  -- 32 bytes
);
CREATE UNIQUE INDEX audit_entry_id ON audit_entry (id);
-- the query filters (every index ends in the rowid, seq, so each serves newest-first
-- pages without sorting; a time range is turned into a seq range)
CREATE INDEX audit_entry_actor ON audit_entry (actor_id);
CREATE INDEX audit_entry_target ON audit_entry (target_kind, target_id);
CREATE INDEX audit_entry_action ON audit_entry (action);
-- the action's domain ("player" of "player.block"), for prefix filters
CREATE INDEX audit_entry_domain ON audit_entry (substr(action,1,instr(action,'.')-1));
CREATE INDEX audit_entry_at ON audit_entry (at);                 -- time -> seq
CREATE INDEX audit_entry_brand ON audit_entry (brand);

-- A signed checkpoint: an Ed25519 signature, by the key whose public half and
-- fingerprint are stored beside it, over (id, upto_seq, head_hash, at, key_id),
-- where head_hash is the hash of entry upto_seq. ids are contiguous from 1.
CREATE TABLE audit_checkpoint (
    id          INTEGER PRIMARY KEY,
    upto_seq    INTEGER NOT NULL,
    head_hash   BLOB    NOT NULL,                  -- 32 bytes
    at          INTEGER NOT NULL,
    key_id      TEXT    NOT NULL,                  -- hex of the first 8 bytes of SHA-256(public_key)
    public_key  BLOB    NOT NULL,                  -- 32 bytes
    signature   BLOB    NOT NULL                   -- 64 bytes
);
