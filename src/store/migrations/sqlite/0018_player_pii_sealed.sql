-- 0018 players' personal data sealed at rest. No column changes: the rows'
-- values change form, not the schema.
--
-- player_pii, as it is from this version on:
--   email          clear, lower-cased: the login key (UNIQUE per brand, looked up
--                  at every login) and searched by prefix in the back office
--   country        clear, ISO 3166-1 alpha-2: geo rules and filters read it
--   date_of_birth  sealed: "e1:" || hex(nonce || ciphertext || tag), XChaCha20-
--   first_name     Poly1305 under the keys directory's pii.key, the associated
--   last_name      data naming the player's public id and the column, the value
--                  padded to 16 bytes (src/identity/pii.c); a name not given
--                  stays ''. A value an older version stored in the clear is
--                  sealed when `serve` starts.
--
-- The NOCASE indexes 0013 made on the names ordered clear text; a sealed value's
-- order means nothing, and the search never used them (it compares a prefix of
-- the opened name, in C). They would only cost space (keys of a few hundred
-- bytes) and a write per registration, so they go.
DROP INDEX IF EXISTS player_pii_first_name;
DROP INDEX IF EXISTS player_pii_last_name;
