-- 0026 a player's bets in a crash round: GET /v1/player/originals/crash shows the
-- caller's active bets in the current round. It read the round's first 20 active
-- bets of every player (game_round_crash) and kept the caller's, so a player whose
-- bet came after 20 others' saw none of theirs. The caller's are now asked for by
-- (crash_round, player): this index finds them without reading the other players'
-- bets of the round (thousands on a busy brand, read at every poll of every player),
-- in placement order (seq, the rowid, follows the key). Partial like
-- game_round_crash: only crash bets are in it.
CREATE INDEX game_round_crash_player ON game_round (crash_round, player)
    WHERE crash_round IS NOT NULL;
