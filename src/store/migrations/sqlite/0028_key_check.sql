-- 0028 key check: which keys directory this database belongs to. One row per
-- secret that seals data at rest (totp.key, fair.key, provider.key, pii.key):
-- a key check value, BLAKE2b-128 of a fixed message keyed with the secret,
-- written when the secret is first seen. A start with another or a missing file
-- under that name (a keys directory lost, or another database's) is refused
-- before anything is sealed under a new key (src/cli/keycheck.c).
CREATE TABLE key_check (
    name        TEXT    NOT NULL PRIMARY KEY,
    kcv         BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
