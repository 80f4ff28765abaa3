-- 0022 erasure: when a player's personal data was erased (GDPR Art. 17; 0 = never).
-- The erasure (POST /v1/admin/players/{id}/erase, src/api/admin_player_erase.c) keeps
-- the player row and its id, which the ledger, the rounds and the payments refer to,
-- and clears what identifies the person: player_pii's email (replaced by a placeholder
-- that cannot log in), names and date of birth, the sessions' addresses and browsers.
ALTER TABLE player ADD COLUMN erased_at INTEGER NOT NULL DEFAULT 0;
