-- 0035 games void close: voids made before their wallet round was closed.
-- From 0029 (fd5ad7f) to 055779e a void in-house round ("void": a crash bet
-- accepted only after its round started, its stake given back by the wallet
-- rollback "<round>:void" of "<round>:bet") closed nothing in the wallet and
-- left no audit entry: the wallet has no closed row for its round (an
-- in-house round with bets only has no wallet_round row of its own), so a
-- bet or win on that round id would still be accepted. A void now rolls
-- back, closes the wallet round ("<round>:close") and then moves to void with
-- its audit entry game_round.voided (src/games/play.c). Such rounds go back
-- to "voiding" (their void_reason kept; settled_at, the time of the void,
-- kept too: the move to void keeps a time already set), and start-up's
-- recovery drives them through that same path (src/games/play.c, recover):
-- the rollback is a duplicate that gives nothing back again (its stored
-- outcome is the split it gave), the close is new, and the move to void
-- writes the audit entry the void never had. Rounds whose wallet round is
-- closed (every void since 055779e, and staff voids) are untouched. Reads
-- the void rounds once at upgrade (no index covers them: a scan of
-- game_round).
UPDATE game_round SET state = 'voiding'
 WHERE state = 'void'
   AND NOT EXISTS (SELECT 1 FROM wallet_round w
                    WHERE w.provider = 'pitboss' AND w.round_id = game_round.id
                      AND w.player = game_round.player AND w.closed = 1);
