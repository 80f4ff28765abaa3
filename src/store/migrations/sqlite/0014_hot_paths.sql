-- 0014 hot paths: two tables rebuilt for what every wallet call costs the ledger
-- writer (callgrind over `pitboss bench game`, instructions per operation):
--
-- wallet_bet: its CHECK (state IN ('placed', 'rolled_back', 'tombstone')) made
-- SQLite build an ephemeral b-tree for the IN list at every insert and state
-- update (~8,700 instructions each, most of it zeroing a page cache). The same
-- rule written as comparisons costs a few instructions. Rows, key and meaning
-- are unchanged.
--
-- event_outbox: AUTOINCREMENT updated sqlite_sequence at every insert. Ids still
-- only grow without it: a new rowid is max(id) + 1 and the outbox's prune never
-- deletes the newest row (sqlite_events.c), so the largest id given stays in the
-- table and no id is ever given twice; a rolled-back insert frees its id either
-- way. Ids also stay visible in id order (one writer at a time; see 0011).
CREATE TABLE wallet_bet_0014 (
    provider    TEXT    NOT NULL,
    bet_tx_id   TEXT    NOT NULL,
    player      TEXT    NOT NULL,
    round_id    TEXT    NOT NULL,
    cash_part   INTEGER NOT NULL,
    bonus_part  INTEGER NOT NULL,
    state       TEXT    NOT NULL
                CHECK (state = 'placed' OR state = 'rolled_back' OR state = 'tombstone'),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, bet_tx_id)
) WITHOUT ROWID;
INSERT INTO wallet_bet_0014 (provider, bet_tx_id, player, round_id, cash_part, bonus_part,
                             state, created_at, updated_at)
    SELECT provider, bet_tx_id, player, round_id, cash_part, bonus_part, state, created_at,
           updated_at
      FROM wallet_bet;
DROP TABLE wallet_bet;
ALTER TABLE wallet_bet_0014 RENAME TO wallet_bet;

CREATE TABLE event_outbox_0014 (
    id         INTEGER PRIMARY KEY,
    type       TEXT    NOT NULL,             -- "bet.placed", "deposit.completed", ...
    brand      TEXT    NOT NULL DEFAULT '',  -- brand code; '' = platform-wide
    subject    TEXT    NOT NULL DEFAULT '',  -- player / staff public id, or ''
    payload    TEXT    NOT NULL,             -- a JSON object
    created_at INTEGER NOT NULL,             -- µs since the epoch, UTC
    trace_id   TEXT    NOT NULL DEFAULT ''   -- W3C trace id of the change, or ''
);
INSERT INTO event_outbox_0014 (id, type, brand, subject, payload, created_at, trace_id)
    SELECT id, type, brand, subject, payload, created_at, trace_id FROM event_outbox;
DROP TABLE event_outbox;
ALTER TABLE event_outbox_0014 RENAME TO event_outbox;
