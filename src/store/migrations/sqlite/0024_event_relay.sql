-- 0024 event relay: how far each relay of the outbox to an external broker got
-- (src/events/jetstream.c: NATS JetStream). last_id is the newest outbox id the
-- broker acknowledged, written about once a second: after a crash the relay
-- publishes again from there, and the broker drops what it already has by the
-- message id (the event id).
CREATE TABLE event_relay (
    name       TEXT    PRIMARY KEY,   -- 'jetstream:<stream>'
    last_id    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL       -- µs since the epoch, UTC
) WITHOUT ROWID;
