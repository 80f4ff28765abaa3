-- 0030 wallet round owner: the players of a provider's round, found by its id.
-- A native round close names no bet, only its round; when its launch token is
-- gone (launches are pruned 30 days after they expire) the wallet finds whose
-- round it is from the round's accepted bets (src/wallet/game.c,
-- pb_wallet_round_owner_get). wallet_op was indexed by (provider, tx_id) only,
-- so that was a scan of every operation. Partial: only accepted bets (kind 1,
-- result 'OK') are indexed, the rows that name a round's player with its brand
-- and currency; wins, rollbacks, closes and refusals add nothing to it. Cost:
-- one index entry per accepted bet, written in the bet's own commit. Building
-- it reads wallet_op once at upgrade.
CREATE INDEX wallet_op_round_bets ON wallet_op (provider, round_id, player)
    WHERE kind = 1 AND result = 'OK';
