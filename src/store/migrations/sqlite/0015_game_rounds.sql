-- 0015 game rounds: game_round rebuilt with its state CHECK written as comparisons,
-- as 0014 did for wallet_bet: SQLite compiles `state IN (four values)` into an
-- ephemeral b-tree built at every insert and at every update of state (~8,700
-- instructions each; an in-house round is inserted and settled, so twice per
-- round). Columns, rows, keys and indexes are unchanged (the indexes are made
-- again under their names: DROP TABLE took them).
CREATE TABLE game_round_0015 (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,       -- public UUIDv7
    brand_id        INTEGER NOT NULL,
    brand           TEXT    NOT NULL,
    player          TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    game            TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    request_hash    BLOB    NOT NULL,              -- SHA-256 of the request that created it
    params          TEXT    NOT NULL,              -- JSON: the game's parameters as played
    amount          INTEGER NOT NULL CHECK (amount > 0),
    state           TEXT    NOT NULL
                    CHECK (state = 'pending' OR state = 'active' OR state = 'settling'
                         OR state = 'settled'),
    pair_id         TEXT,                          -- the seed pair (NULL: crash, or pending)
    commitment      TEXT,                          -- that pair's commitment
    client_seed     TEXT,
    nonce           INTEGER,
    crash_round     TEXT,                          -- crash: its crash_round.id
    outcome         TEXT,                          -- JSON outcome (mines: hidden until over)
    progress        TEXT,                          -- mines: JSON array of the revealed tiles
    multiplier      INTEGER,                       -- the payout multiplier (rules' scale)
    payout          INTEGER CHECK (payout >= 0),
    rtp_bp          INTEGER,                       -- the RTP in force for this round
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    settled_at      INTEGER
);
INSERT INTO game_round_0015 (seq, id, brand_id, brand, player, currency, game,
                             idempotency_key, request_hash, params, amount, state,
                             pair_id, commitment, client_seed, nonce, crash_round,
                             outcome, progress, multiplier, payout, rtp_bp, created_at,
                             updated_at, settled_at)
    SELECT seq, id, brand_id, brand, player, currency, game, idempotency_key,
           request_hash, params, amount, state, pair_id, commitment, client_seed,
           nonce, crash_round, outcome, progress, multiplier, payout, rtp_bp,
           created_at, updated_at, settled_at
      FROM game_round;
DROP TABLE game_round;
ALTER TABLE game_round_0015 RENAME TO game_round;
CREATE UNIQUE INDEX game_round_key ON game_round (player, idempotency_key);
CREATE INDEX game_round_player ON game_round (player, seq);
CREATE INDEX game_round_open ON game_round (state) WHERE state <> 'settled';
CREATE INDEX game_round_report ON game_round (brand_id, settled_at) WHERE state = 'settled';
CREATE INDEX game_round_crash ON game_round (crash_round) WHERE crash_round IS NOT NULL;
