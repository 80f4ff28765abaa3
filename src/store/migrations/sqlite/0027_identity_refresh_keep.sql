-- 0027 a rotated refresh token is kept as long as its family can still be used.
-- Presenting a refresh token that was already rotated (used_at set) revokes its family
-- and session and raises the reuse alarm (src/identity/refresh.c): the one sign that
-- a stolen token is being replayed. The pruner (0023) deleted every token a day after
-- its own expiry, so a token rotated weeks ago in a session still alive (30 days, idle
-- 7) was gone, and its replay answered TOKEN_INVALID: no alarm, the family left alive.
-- keep_until is when the pruner may delete a row: an unused token's own expiry (its
-- replay after that is refused as expired anyway, and a token never rotated proves
-- no theft); a used token's session end (set when it is rotated: after that the whole
-- family is dead, so a replay can harm nothing). The pruner adds its day of grace.
ALTER TABLE auth_refresh ADD COLUMN keep_until INTEGER NOT NULL DEFAULT 0;
UPDATE auth_refresh SET keep_until = CASE WHEN used_at = 0 THEN expires_at
    ELSE max(expires_at, coalesce((SELECT s.expires_at FROM auth_session s
                                   WHERE s.id = auth_refresh.session_id), 0)) END;
DROP INDEX auth_refresh_expires;
CREATE INDEX auth_refresh_keep ON auth_refresh (keep_until);
