-- 0019 launch revocation: staff end a player's game sessions
-- (POST /v1/admin/players/{id}/launches/revoke). A revoked launch expires at the
-- moment it is revoked, so it is refused wherever a live token is needed (session,
-- balance, bet: TOKEN_EXPIRED) and still names its bets for their wins, rollbacks
-- and round closes, as an expired launch does; revoked_at (0 = never) records that
-- it ended early. launch_player finds a player's live launches.
ALTER TABLE launch ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX launch_player ON launch (player, expires_at);
