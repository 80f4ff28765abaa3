-- 0010 ledger ids: a transfer's id carries its seq, enciphered under id_key
-- (see src/ledger/txid.c), so finding a transfer by id is a primary-key read and
-- the transfer table drops its unique index on id (one B-tree insert less per
-- transfer). Transfers written before this migration keep their random ids; they
-- lie below legacy_ids_below and are found by a scan of that range.
ALTER TABLE ledger_state ADD COLUMN id_key BLOB NOT NULL DEFAULT x'';
ALTER TABLE ledger_state ADD COLUMN legacy_ids_below INTEGER NOT NULL DEFAULT 1;
UPDATE ledger_state
   SET id_key = randomblob(16),
       legacy_ids_below = (SELECT coalesce(max(seq), 0) + 1 FROM ledger_transfer);
DROP INDEX ledger_transfer_id;
