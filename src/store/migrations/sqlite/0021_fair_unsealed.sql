-- 0021 the seeds left to seal: at every start the games seal the active server seeds
-- still stored in the clear (play_seal_existing, src/games/seal.c). It asked for the
-- active pairs whose seed is 64 hex characters, which SQLite answered by reading every
-- active pair: one per player who has ever played, millions on a large casino, each
-- start, to find none (every seed written with a key is sealed). This partial index
-- holds only the pairs that still need it: empty once sealed, and nothing is added to
-- it by a pair written sealed. Building it reads the table once.
CREATE INDEX fair_seed_pair_unsealed ON fair_seed_pair (seq)
    WHERE active = 1 AND length(server_seed) = 64;
