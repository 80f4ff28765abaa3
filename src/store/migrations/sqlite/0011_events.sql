-- 0011 events: the transactional outbox (src/events/). A domain appends a row in
-- the same transaction as the change it announces, so the event commits (or
-- rolls back) with it. id is AUTOINCREMENT: ids only grow, and one pruned away
-- is never given again, so a client resuming after id N never meets a reused
-- one. SQLite has one writer at a time and a transaction holds the write lock
-- from its first insert to its commit, so ids also become visible in id order:
-- a reader that has seen id N will never later see a committed id below N
-- (the dispatcher tails the table by id > last and relies on it).
CREATE TABLE event_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT    NOT NULL,             -- "bet.placed", "deposit.completed", ...
    brand      TEXT    NOT NULL DEFAULT '',  -- brand code; '' = platform-wide
    subject    TEXT    NOT NULL DEFAULT '',  -- player / staff public id, or ''
    payload    TEXT    NOT NULL,             -- a JSON object
    created_at INTEGER NOT NULL,             -- µs since the epoch, UTC
    trace_id   TEXT    NOT NULL DEFAULT ''   -- W3C trace id of the change, or ''
);
