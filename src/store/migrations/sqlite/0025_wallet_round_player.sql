-- 0025 wallet rounds per player: wallet_round rebuilt with the player in its key.
--
-- A provider's round id is not one player's: a live table (Evolution-style live
-- games, Hub88's `round`) gives every player at it the same round id. Keyed by
-- (provider, round_id) alone, the first row written for an id (one player's
-- close or win) was taken for every other player's round of that id: their wins
-- were refused ROUND_CLOSED for good, their rollbacks ROUND_HAS_WIN, their rounds
-- closed by another player's win. A round is now (provider, round_id, player);
-- the same id at another player is that player's round. Existing rows are copied
-- as they are (each row is the round of the player it names).
--
-- As before, a round with bets only has no row here: its bets (wallet_op,
-- wallet_bet) say whose they are; a row is written when a win is paid on the
-- round (a rollback is then refused) or it is closed (no more bets or wins).
CREATE TABLE wallet_round_0025 (
    provider    TEXT    NOT NULL,
    round_id    TEXT    NOT NULL,
    player      TEXT    NOT NULL,
    game        TEXT    NOT NULL DEFAULT '',
    has_win     INTEGER NOT NULL DEFAULT 0,
    closed      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, round_id, player)
) WITHOUT ROWID;
INSERT INTO wallet_round_0025 (provider, round_id, player, game, has_win, closed, created_at,
                               updated_at)
    SELECT provider, round_id, player, game, has_win, closed, created_at, updated_at
      FROM wallet_round;
DROP TABLE wallet_round;
ALTER TABLE wallet_round_0025 RENAME TO wallet_round;
