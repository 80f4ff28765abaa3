-- 0050 The adjustment requests of one player (0048's adjustment_request), newest
-- first: what the player's erasure checks (one still pending refuses it) and what
-- the player's data export lists, without walking every brand's requests.
CREATE INDEX adjustment_request_player ON adjustment_request (player, id);
