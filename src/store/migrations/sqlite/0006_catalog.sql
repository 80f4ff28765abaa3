-- 0006 catalog: game providers, their games, where each game may be offered, and
-- the launch tokens players trade for a game session (src/catalog/catalog.h).
-- Times are int64 microseconds since the Unix epoch (UTC); bet limits are int64
-- minor units of their currency. Codes are immutable; rows are never deleted
-- (a provider or game is retired by setting its status to 'disabled').

-- A provider speaks one wallet protocol. secret: the native protocol's
-- HMAC-SHA256 key (32..64 bytes), not hashed: the server must present it to
-- verify every request. (Comment updated later: it was first stored as is; it is
-- now stored sealed under keys_dir/provider.key, 75..107 bytes starting "p1:",
-- see src/catalog/secret.c — no schema change.) The API never returns it after
-- the response that created it.
-- public_key_pem: hub88: the provider's RSA public key (PEM) that verifies its
-- X-Hub88-Signature. timestamp_window_s: the accepted clock skew.
CREATE TABLE provider (
    id                 INTEGER PRIMARY KEY,
    code               TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL,
    protocol           TEXT    NOT NULL CHECK (protocol IN ('native', 'hub88')),
    secret             BLOB    NOT NULL DEFAULT x'',
    public_key_pem     TEXT    NOT NULL DEFAULT '',
    timestamp_window_s INTEGER NOT NULL DEFAULT 300,
    status             TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- A game of one provider; its code is unique within the provider.
CREATE TABLE game (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL,
    code        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    category    TEXT    NOT NULL,   -- slots | live | table | crash | instant | other
    rtp_bp      INTEGER NOT NULL,   -- certified RTP in basis points (9650 = 96.50%)
    volatility  TEXT    NOT NULL CHECK (volatility IN ('low', 'medium', 'high')),
    status      TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (provider_id, code)
);
CREATE INDEX game_category ON game (category, id);

-- Min and max bet per currency (max_bet 0: no maximum). A currency without a
-- row cannot be staked on the game.
CREATE TABLE game_limit (
    game_id  INTEGER NOT NULL,
    currency TEXT    NOT NULL,
    min_bet  INTEGER NOT NULL CHECK (min_bet > 0),
    max_bet  INTEGER NOT NULL CHECK (max_bet = 0 OR max_bet >= min_bet),
    PRIMARY KEY (game_id, currency)
) WITHOUT ROWID;

-- Jurisdictions where the game may not be offered: "XX" (ISO 3166-1 alpha-2),
-- which also covers every subdivision "XX-…", or one subdivision "XX-YYY".
CREATE TABLE game_blocked_jurisdiction (
    game_id      INTEGER NOT NULL,
    jurisdiction TEXT    NOT NULL,
    PRIMARY KEY (game_id, jurisdiction)
) WITHOUT ROWID;

-- The per-brand switch (no row = disabled). Kept when switched off, so the
-- time of the last change stays visible.
CREATE TABLE game_brand (
    game_id    INTEGER NOT NULL,
    brand_id   INTEGER NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (game_id, brand_id)
) WITHOUT ROWID;
CREATE INDEX game_brand_enabled ON game_brand (brand_id, game_id) WHERE enabled = 1;

-- A launch: only the SHA-256 of the opaque token is stored, so a copy of the
-- database does not give anyone a playable token.
CREATE TABLE launch (
    token_hash  BLOB    PRIMARY KEY,   -- SHA-256 of the token text
    provider_id INTEGER NOT NULL,
    game_id     INTEGER NOT NULL,
    brand       TEXT    NOT NULL,      -- brand code
    player      TEXT    NOT NULL,      -- player public id
    currency    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX launch_expires ON launch (expires_at);
