/* audit_internal.h — shared by the audit module's files (private to src/audit/). */
#ifndef PB_AUDIT_INTERNAL_H
#define PB_AUDIT_INTERNAL_H

#include "audit/audit.h"

#define AUDIT_ENTRY_TAG "pitboss.audit.entry.v1"
#define AUDIT_CHECKPOINT_TAG "pitboss.audit.checkpoint.v1"
/* tag + id + upto_seq + head_hash + at + key id with its length prefix */
#define AUDIT_CHECKPOINT_MSG_MAX (sizeof AUDIT_CHECKPOINT_TAG - 1 + 8 + 8 + 32 + 8 + 4 + 32)

/* hash.c */
/* Initialises libsodium once per process (aborts if it cannot: nothing can be signed). */
void pb_audit_sodium_init(void);
/* The bytes a checkpoint's signature covers (docs/audit-format.md); returns their length. */
size_t pb_audit_checkpoint_message(const pb_audit_checkpoint_record *cp,
                                   uint8_t out[AUDIT_CHECKPOINT_MSG_MAX]);
/* Lower-case hex of n bytes into out (2n + 1 bytes with the NUL). */
void pb_audit_hex(const uint8_t *b, size_t n, char *out);
/* Maps a store result to the error a caller sees. */
pb_err pb_audit_store_err(pb_store_rc rc);

/* key.c */
/* Signs msg with k into sig. */
void pb_audit_key_sign(const pb_audit_key *k, const uint8_t *msg, size_t n, uint8_t sig[64]);

/* entry.c */
/* Is [s, s+n) valid UTF-8 without NUL and, unless allowed, without control characters? */
bool pb_audit_utf8_ok(const char *s, size_t n, bool allow_tab_newline);
/* An action name ("player.block": lower-case [a-z0-9_] segments joined by single
 * dots, at least two, at most PB_AUDIT_ACTION_MAX bytes), or with prefix set an
 * action prefix: one or more such segments, each followed by a dot ("player."). */
bool pb_audit_action_ok(const char *s, bool prefix);

#endif
