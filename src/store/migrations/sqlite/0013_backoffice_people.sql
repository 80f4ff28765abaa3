-- 0013 back office, people: player names, staff notes on players, and the
-- indexes the player page's lists (sessions, rounds) and the search need.
-- Times are int64 microseconds since the Unix epoch (UTC).

-- Optional names (PII, so in player_pii); '' when not given. Searched by a
-- case-insensitive prefix, hence the NOCASE indexes.
ALTER TABLE player_pii ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE player_pii ADD COLUMN last_name  TEXT NOT NULL DEFAULT '';
CREATE INDEX player_pii_first_name ON player_pii (first_name COLLATE NOCASE);
CREATE INDEX player_pii_last_name  ON player_pii (last_name COLLATE NOCASE);
CREATE INDEX player_pii_email      ON player_pii (email);

-- Staff notes on a player: append-only (no edit, no delete). The author's id
-- and email are copied as they were when the note was written.
CREATE TABLE player_note (
    id           INTEGER PRIMARY KEY,
    player_id    INTEGER NOT NULL,
    brand_id     INTEGER NOT NULL,
    author_id    TEXT    NOT NULL,   -- staff public id
    author_email TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX player_note_player ON player_note (player_id, id);
CREATE TRIGGER player_note_no_update BEFORE UPDATE ON player_note
BEGIN SELECT RAISE(ABORT, 'player notes are append-only'); END;
CREATE TRIGGER player_note_no_delete BEFORE DELETE ON player_note
BEGIN SELECT RAISE(ABORT, 'player notes are append-only'); END;

-- A player's provider rounds are read from their wallet operations.
CREATE INDEX wallet_op_player ON wallet_op (player, provider, round_id);
-- Sorting players by last login.
CREATE INDEX player_last_login ON player (last_login_at, id);
