/*
 * sealbox.h — small secrets sealed at rest, and the key files that seal them.
 *
 * Some values the database must hold cannot be hashed because the server uses
 * them: a native provider's HMAC key, a staff member's TOTP seed, an active
 * provably fair server seed. The database is read by more than the server
 * (backups, replicas, copies for support or analytics), so such a value is
 * stored sealed: XChaCha20-Poly1305 (libsodium's IETF AEAD) under a 32-byte key
 * that lives in the keys directory, never in the database, with associated data
 * naming what the value belongs to (a provider's code, a seed pair's id), so a
 * sealed value copied onto another row does not open.
 *
 *     box = nonce (24 random bytes) || ciphertext (as long as the value) || tag (16)
 *
 * The key files: KEYS_DIR/<name>, exactly 32 random bytes, mode 0600 (refused
 * when group or others may read it), created on first use with O_EXCL so two
 * processes starting at once agree on one key. Losing a key file loses what it
 * sealed: back up the keys directory with the database.
 */
#ifndef PB_CORE_SEALBOX_H
#define PB_CORE_SEALBOX_H

#include <stddef.h>
#include <stdint.h>

#define PB_SEALBOX_KEY_LEN 32
#define PB_SEALBOX_NONCE_LEN 24
#define PB_SEALBOX_OVERHEAD (PB_SEALBOX_NONCE_LEN + 16) /* nonce + tag */

/* box (len + PB_SEALBOX_OVERHEAD bytes) = plain sealed under key, bound to ad
 * (a NUL-terminated string, "" for none). */
void pb_sealbox_seal(const uint8_t key[PB_SEALBOX_KEY_LEN], const char *ad, const uint8_t *plain,
                     size_t len, uint8_t *box);

/* plain (box_len - PB_SEALBOX_OVERHEAD bytes) = the value box seals under key and
 * ad. 0, or -1 when it does not open (another key or ad, a changed byte, too
 * short); plain is then zeroed. */
int pb_sealbox_open(const uint8_t key[PB_SEALBOX_KEY_LEN], const char *ad, const uint8_t *box,
                    size_t box_len, uint8_t *plain);

/* plain (n bytes) = the first n bytes of the value box seals, deciphered
 * WITHOUT checking the tag (the AEAD's own stream cipher: XChaCha20 from block
 * 1), for a filter that reads many boxes to find a few (the back office's name
 * search). For an authentic box they are the value's bytes; for a box anyone
 * made or changed without the key they are noise. So a byte that differs rules
 * a box out, and a box a caller keeps must still be opened (pb_sealbox_open).
 * Reads only the nonce and the next n bytes (box_len is the whole box's). 0, or
 * -1 when n exceeds box_len - PB_SEALBOX_OVERHEAD. */
int pb_sealbox_peek(const uint8_t key[PB_SEALBOX_KEY_LEN], const uint8_t *box, size_t box_len,
                    size_t n, uint8_t *plain);

/* Creates dir and its missing parents with mode 0700 (an existing directory is
 * fine). 0, or -1 with the reason in err. */
int pb_keyfile_make_dir(const char *dir, char *err, size_t errcap);

/* key = the 32 bytes of dir/name, created with random bytes (0600) when the file
 * does not exist; dir must exist. 0, or -1 with the reason in err (the file is
 * not a regular file, others may read it, it does not hold exactly 32 bytes). */
int pb_keyfile_secret(const char *dir, const char *name, uint8_t key[PB_SEALBOX_KEY_LEN], char *err,
                      size_t errcap);
/* The same without creating it: 0 read, 1 when it does not exist, -1 with err. */
int pb_keyfile_read(const char *dir, const char *name, uint8_t key[PB_SEALBOX_KEY_LEN], char *err,
                    size_t errcap);

#endif
