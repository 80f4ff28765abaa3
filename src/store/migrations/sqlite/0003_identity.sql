-- 0003 identity: players, staff and their brand scope, sessions and refresh tokens.
-- Times are int64 microseconds since the Unix epoch (UTC); 0 means "never" / "not yet".
-- Secrets are never stored in the clear: passwords as argon2id strings, refresh
-- tokens as SHA-256 of the opaque token, TOTP seeds sealed (see staff below).

-- A player belongs to exactly one brand and plays in one currency.
-- Personal data lives in player_pii, not here, so that encrypting it at rest
-- (ARCHITECTURE: PII encrypted with a key from configuration) and erasing it
-- (GDPR) touch one table and never the ledger, which holds only ids.
CREATE TABLE player (
    id            INTEGER PRIMARY KEY,
    public_id     TEXT    NOT NULL UNIQUE,            -- UUIDv7, the id every API shows
    brand_id      INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,                   -- crypto_pwhash_str (argon2id)
    status        TEXT    NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'blocked', 'self_excluded', 'closed')),
    block_reason  TEXT    NOT NULL DEFAULT '',
    failed_logins INTEGER NOT NULL DEFAULT 0,         -- consecutive failures since the last success
    locked_until  INTEGER NOT NULL DEFAULT 0,
    last_login_at INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX player_brand ON player (brand_id);
CREATE INDEX player_created ON player (created_at);

-- PII, one row per player. The email (lower-cased) is also the login key, unique
-- per brand. When encryption at rest lands, email/country/date_of_birth become
-- ciphertext and a keyed blind index (HMAC of the lower-cased email) replaces the
-- plaintext email in the unique index; only src/store/ changes.
CREATE TABLE player_pii (
    player_id     INTEGER PRIMARY KEY,
    brand_id      INTEGER NOT NULL,
    email         TEXT    NOT NULL,
    country       TEXT    NOT NULL,                   -- ISO 3166-1 alpha-2
    date_of_birth TEXT    NOT NULL,                   -- YYYY-MM-DD
    UNIQUE (brand_id, email)
);

-- Back-office staff. A role maps to permissions in src/identity/rbac.c.
-- all_brands: the member sees every brand (admin and auditor only); otherwise
-- staff_brand lists the brands in scope.
-- totp_secret: the RFC 6238 seed sealed with XChaCha20-Poly1305 under the keys
-- directory's totp.key (nonce || ciphertext, the staff public id as associated
-- data); never logged. totp_last_step: the highest time step accepted, so a code
-- is never accepted twice.
CREATE TABLE staff (
    id                   INTEGER PRIMARY KEY,
    public_id            TEXT    NOT NULL UNIQUE,     -- UUIDv7
    email                TEXT    NOT NULL UNIQUE,     -- lower-cased
    password_hash        TEXT    NOT NULL,
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'support', 'finance', 'risk',
                                                         'compliance', 'game_ops', 'auditor')),
    all_brands           INTEGER NOT NULL DEFAULT 0,
    status               TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    totp_secret          BLOB,
    totp_enrolled        INTEGER NOT NULL DEFAULT 0,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER NOT NULL DEFAULT 0,
    last_login_at        INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE staff_brand (
    staff_id INTEGER NOT NULL,
    brand_id INTEGER NOT NULL,
    PRIMARY KEY (staff_id, brand_id)
) WITHOUT ROWID;

-- A login: one per device. Access tokens carry public_id as `sid`. A session ends
-- at expires_at (absolute), after idle_s without a refresh, or when revoked.
CREATE TABLE auth_session (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT    NOT NULL UNIQUE,             -- UUIDv7
    subject_kind TEXT    NOT NULL CHECK (subject_kind IN ('player', 'staff')),
    subject_id   INTEGER NOT NULL,
    brand_id     INTEGER NOT NULL DEFAULT 0,          -- the player's brand; 0 for staff
    scope        TEXT    NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'setup')),
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    idle_s       INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    revoke_reason TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX auth_session_subject ON auth_session (subject_kind, subject_id);

-- Refresh tokens (RFC 9700): opaque to the client, stored as SHA-256 only. Each
-- use marks the token used and issues a child in the same family; presenting a
-- used token revokes the whole family and its session.
CREATE TABLE auth_refresh (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,               -- SHA-256 of the token, 32 bytes
    family_id  TEXT    NOT NULL,                      -- UUIDv7 of the family's first token
    session_id INTEGER NOT NULL,
    parent_id  INTEGER NOT NULL DEFAULT 0,            -- the token this one replaced; 0 = first
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX auth_refresh_family ON auth_refresh (family_id);
CREATE INDEX auth_refresh_session ON auth_refresh (session_id);
