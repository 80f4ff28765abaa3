-- 0008 ledger state: the balance projection is written back lazily.
--
-- The ledger writer keeps every account's counters in memory and writes an
-- account's ledger_balance row back about once a second while it is busy (not
-- once per commit), which takes the row updates and their page writes off the
-- hot path. A row is exact as of its own last_seq: every transfer touching the
-- account with a higher seq is not in it yet, and every transfer up to
-- balances_seq is in every row. The transfers are the truth; after a crash the
-- writer replays those above balances_seq onto the rows it loads (and readers
-- in other processes do the same for the account they read).
CREATE TABLE ledger_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    balances_seq INTEGER NOT NULL
);
INSERT INTO ledger_state (id, balances_seq)
    SELECT 1, coalesce(max(seq), 0) FROM ledger_transfer;
