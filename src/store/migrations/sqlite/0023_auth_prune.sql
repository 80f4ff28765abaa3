-- 0023 pruning the login tables: every login adds a session and every refresh (each
-- access token's life, minutes) a refresh-token row, so auth_session and auth_refresh
-- grew without end. The identity pruner (src/identity/prune.c) deletes refresh tokens
-- a day after they expired and sessions once their end is older than the login
-- history kept (--session-history-days). These indexes let it find them without
-- reading the tables; both columns grow with time, so each insert appends.
CREATE INDEX auth_refresh_expires ON auth_refresh (expires_at);
CREATE INDEX auth_session_expires ON auth_session (expires_at);
