-- 0009 games: the money side of pitboss's own provably fair games (issue 5) —
-- players' seed pairs, rounds, the RTP in force per game and brand, and the
-- crash game's hash chains and rounds. Written by src/games/play*.c, every
-- state change inside a ledger command (so a nonce, a round's state and the
-- money it moved commit in one order with all other money movement). Times are
-- int64 microseconds since the Unix epoch (UTC); amounts int64 minor units;
-- multipliers integers in the rules' scale (src/games/games.h).

-- A player's seed pair. The active pair (one per player) keeps its server seed
-- secret: only its commitment (SHA-256 of the seed's hex text) is shown. A
-- rotation reveals it (active = 0, revealed_at set) and creates the next pair.
-- next_nonce is the nonce of the next bet; it only grows, by one per bet.
CREATE TABLE fair_seed_pair (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,          -- public UUIDv7
    brand_id     INTEGER NOT NULL,
    brand        TEXT    NOT NULL,
    player       TEXT    NOT NULL,                 -- player public id
    server_seed  TEXT    NOT NULL,                 -- 64 lower-case hex; secret while active
    commitment   TEXT    NOT NULL,                 -- SHA-256 hex of server_seed's text
    client_seed  TEXT    NOT NULL,
    next_nonce   INTEGER NOT NULL CHECK (next_nonce >= 0),
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at   INTEGER NOT NULL,
    revealed_at  INTEGER                           -- when rotated out
);
CREATE UNIQUE INDEX fair_seed_pair_active ON fair_seed_pair (player) WHERE active = 1;
CREATE INDEX fair_seed_pair_player ON fair_seed_pair (player, seq);

-- One round of an in-house game: one bet, one outcome, one payout. Its life:
--   pending   the request is recorded (idempotency key → this row); the bet is
--             being taken through the wallet (tx "<id>:bet")
--   active    mines: the bet is taken and the mines placed, tiles being revealed;
--             crash: the bet is in its crash round, waiting for a cash-out or the crash
--   settling  the outcome and the payout are decided; the win (tx "<id>:win",
--             possibly 0, closing the wallet round) is being paid
--   settled   done
-- A pending row whose bet the wallet refused is deleted: a refused bet leaves
-- no round. Start-up drives every unfinished row on (the wallet's operations
-- are idempotent by transaction id, so nothing is paid twice).
CREATE TABLE game_round (
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
                    CHECK (state IN ('pending', 'active', 'settling', 'settled')),
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
CREATE UNIQUE INDEX game_round_key ON game_round (player, idempotency_key);
CREATE INDEX game_round_player ON game_round (player, seq);
CREATE INDEX game_round_open ON game_round (state) WHERE state <> 'settled';
CREATE INDEX game_round_report ON game_round (brand_id, settled_at) WHERE state = 'settled';
CREATE INDEX game_round_crash ON game_round (crash_round) WHERE crash_round IS NOT NULL;

-- The RTP in force of a game on a brand, set by game operations staff (audited);
-- no row = the game's default.
CREATE TABLE game_rtp (
    brand_id    INTEGER NOT NULL,
    game        TEXT    NOT NULL,
    rtp_bp      INTEGER NOT NULL CHECK (rtp_bp > 0 AND rtp_bp <= 10000),
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,                  -- "staff:<public id>"
    PRIMARY KEY (brand_id, game)
);

-- A crash hash chain of a brand: hashes h_0 .. h_{length-1}, h_i = SHA-256 of
-- h_{i+1}'s hex text; games are played h_0, h_1, … and terminal_hash = SHA-256 of
-- h_0's hex text is published before the first game, so every revealed game
-- hash can be linked back to it. seed = h_{length-1} (secret: it generates all).
CREATE TABLE crash_chain (
    id             INTEGER PRIMARY KEY,
    brand_id       INTEGER NOT NULL,
    brand          TEXT    NOT NULL,
    seed           TEXT    NOT NULL,
    salt           TEXT    NOT NULL,
    terminal_hash  TEXT    NOT NULL,
    length         INTEGER NOT NULL CHECK (length > 0),
    next_position  INTEGER NOT NULL CHECK (next_position >= 0),
    created_at     INTEGER NOT NULL
);
CREATE INDEX crash_chain_brand ON crash_chain (brand_id, id);

-- A crash round: betting until betting_ends_at, then running from started_at
-- until the multiplier reaches point, then crashed (bets settled). game_hash is
-- only shown once the round has crashed.
CREATE TABLE crash_round (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,       -- public UUIDv7
    brand_id        INTEGER NOT NULL,
    brand           TEXT    NOT NULL,
    chain_id        INTEGER NOT NULL REFERENCES crash_chain (id),
    position        INTEGER NOT NULL,
    game_hash       TEXT    NOT NULL,
    point           INTEGER NOT NULL,              -- crash point × 100
    rtp_bp          INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('betting', 'running', 'crashed')),
    betting_ends_at INTEGER NOT NULL,
    started_at      INTEGER,
    crashed_at      INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (chain_id, position)
);
CREATE INDEX crash_round_brand ON crash_round (brand_id, seq);
