-- 0017 crash rounds sealed at rest: crash_round rebuilt so that a round being bet on
-- keeps its crash point out of the database. Before, a round stored its game_hash and
-- its point in the clear from its creation in the betting phase, and whoever could read
-- the database (a backup, a replica, a support export) while it took bets and ran knew
-- where it would crash. Now, until the round crashes:
--   game_hash  its hash sealed under the keys directory's fair.key (src/games/seal.c:
--              "s1:" and hex, bound to "crash-round:<id>"); a process without a key
--              stores it as given (64 hex), as it does seeds
--   point      0: not yet revealed (the server opens the hash and computes the point
--              from it, the chain's salt and rtp_bp, src/games/play_crash.c)
-- and the crash writes both in the clear (public from then on: history, verify).
-- Rows an older version wrote in the clear for rounds not yet crashed keep their values
-- here (SQL has no key) and are sealed when the games open with a key.
--
-- The rules at rest: a point is never stored beside a sealed hash; a crashed round has
-- its hash in the clear and a point of at least 1.00x. The state CHECK is written as
-- comparisons (0014: an IN list builds an ephemeral table at every write). Columns,
-- rows and keys are otherwise unchanged; the brand index is made again under its name
-- (DROP TABLE took it), and a partial index lists the rounds not yet crashed (at most
-- one or two per brand) for the start-up pass that seals the old clear rows.
CREATE TABLE crash_round_0017 (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,       -- public UUIDv7
    brand_id        INTEGER NOT NULL,
    brand           TEXT    NOT NULL,
    chain_id        INTEGER NOT NULL REFERENCES crash_chain (id),
    position        INTEGER NOT NULL,
    game_hash       TEXT    NOT NULL,              -- 64 hex once crashed; sealed before
    point           INTEGER NOT NULL CHECK (point >= 0), -- crash point × 100; 0 until crashed
    rtp_bp          INTEGER NOT NULL,
    state           TEXT    NOT NULL
                    CHECK (state = 'betting' OR state = 'running' OR state = 'crashed'),
    betting_ends_at INTEGER NOT NULL,
    started_at      INTEGER,
    crashed_at      INTEGER,
    created_at      INTEGER NOT NULL,
    CHECK (point = 0 OR length(game_hash) = 64),
    CHECK (state <> 'crashed' OR (point >= 100 AND length(game_hash) = 64)),
    UNIQUE (chain_id, position)
);
INSERT INTO crash_round_0017 (seq, id, brand_id, brand, chain_id, position, game_hash, point,
                              rtp_bp, state, betting_ends_at, started_at, crashed_at,
                              created_at)
    SELECT seq, id, brand_id, brand, chain_id, position, game_hash, point, rtp_bp, state,
           betting_ends_at, started_at, crashed_at, created_at
      FROM crash_round;
DROP TABLE crash_round;
ALTER TABLE crash_round_0017 RENAME TO crash_round;
CREATE INDEX crash_round_brand ON crash_round (brand_id, seq);
CREATE INDEX crash_round_open ON crash_round (seq) WHERE state <> 'crashed';
