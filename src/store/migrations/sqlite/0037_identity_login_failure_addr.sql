-- 0037 login failures per (account, client address) (src/identity/login.c). A
-- stranger who sends wrong passwords for a staff member's email from one address
-- locks that address out of that account, not the member everywhere; the
-- failed_logins / locked_until columns of staff and player are now the account's
-- global ceiling (identity config lockout_account_threshold), which still stops
-- guessing spread over many addresses. addr is the client address as the HTTP
-- layer reads it (the TCP peer; an IPv6 address by its /64), '' when unknown.
-- A session opened, a TOTP reset or an erasure deletes the subject's rows.
CREATE TABLE login_failure (
    subject_kind TEXT    NOT NULL CHECK (subject_kind IN ('staff', 'player')),
    subject_id   INTEGER NOT NULL,
    addr         TEXT    NOT NULL,
    failed       INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, addr)
) WITHOUT ROWID;
CREATE INDEX login_failure_updated ON login_failure (updated_at);
