-- 0040 wallet round plays: the players of a provider's round found by its id
-- when nobody has an accepted bet on it. A native round close names no bet,
-- only its round; once its launch token is pruned (30 days after it expires)
-- the wallet finds whose round it is from the round's accepted bets (0030's
-- wallet_op_round_bets). A round whose bets were all refused for good (the
-- refusal stored: insufficient funds, a blocked player) or rolled back before
-- they arrived (the rollback's tombstone) has none, and its close got
-- ROUND_NOT_FOUND, which the provider retries for ever; while the launch is
-- there the same close closes the round (src/wallet/game.c, do_close). This
-- index holds exactly those other plays: stored refusals of bets (kind 1, a
-- result other than OK) and accepted rollbacks (kind 3, result OK), so the
-- lookup reads them after the accepted bets came up empty. Cost: one index
-- entry per refused bet and per rollback, none for an accepted bet, a win or a
-- close. Building it reads wallet_op once at upgrade.
CREATE INDEX wallet_op_round_plays ON wallet_op (provider, round_id, player)
    WHERE (kind = 1 AND result <> 'OK') OR (kind = 3 AND result = 'OK');
