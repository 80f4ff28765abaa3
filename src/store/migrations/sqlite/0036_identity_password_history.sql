-- 0036 password history (PCI DSS v4.0 8.3.7: a new password may not equal any of
-- the last four). A row holds the argon2id hash a password change REPLACED (never a
-- plaintext); the current hash is on the staff/player row, so the current one plus
-- the newest three rows here are the last four. Setting a password prunes the
-- subject's older rows (src/store/sqlite/sqlite_identity.c), an erasure deletes a
-- player's rows. A staff member's one-time password (creation, TOTP reset) is not
-- kept: it was never chosen, and keeping it would push a real one out.
CREATE TABLE password_history (
    id           INTEGER PRIMARY KEY,
    subject_kind TEXT    NOT NULL CHECK (subject_kind IN ('staff', 'player')),
    subject_id   INTEGER NOT NULL,
    password_hash TEXT   NOT NULL,
    replaced_at  INTEGER NOT NULL
);
CREATE INDEX password_history_subject ON password_history (subject_kind, subject_id, id);
