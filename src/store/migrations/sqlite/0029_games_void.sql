-- 0029 games void: an in-house round can be void. A crash bet whose stake was
-- taken but whose acceptance into its round came only after the round had
-- started (its decision failed, the store or the wallet unavailable, and the
-- retry pass or the next start decided it late) never played: it is void and
-- its stake goes back through the wallet (a rollback "<round>:void" of
-- "<round>:bet"), "malfunction voids all pays and plays". Two states join the
-- four: 'voiding' (the refund owed, like 'settling' for a win) and 'void' (the
-- stake given back: finished, like 'settled'), with void_reason saying why
-- (NULL for every other round). SQLite cannot change a CHECK in place, so the
-- table is rebuilt as 0015 did (the state CHECK written as comparisons), rows,
-- keys and indexes unchanged except game_round_open, which leaves out finished
-- rounds of both kinds (a void round is as finished as a settled one).
CREATE TABLE game_round_0029 (
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
                         OR state = 'settled' OR state = 'voiding' OR state = 'void'),
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
    settled_at      INTEGER,                       -- settled, or void: when it finished
    void_reason     TEXT                           -- voiding / void: why (src/games/play.h)
                    CHECK ((void_reason IS NULL) = (state <> 'voiding' AND state <> 'void'))
);
INSERT INTO game_round_0029 (seq, id, brand_id, brand, player, currency, game,
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
ALTER TABLE game_round_0029 RENAME TO game_round;
CREATE UNIQUE INDEX game_round_key ON game_round (player, idempotency_key);
CREATE INDEX game_round_player ON game_round (player, seq);
CREATE INDEX game_round_open ON game_round (state) WHERE state <> 'settled' AND state <> 'void';
CREATE INDEX game_round_report ON game_round (brand_id, settled_at) WHERE state = 'settled';
CREATE INDEX game_round_crash ON game_round (crash_round) WHERE crash_round IS NOT NULL;
CREATE INDEX game_round_crash_player ON game_round (crash_round, player)
    WHERE crash_round IS NOT NULL;
