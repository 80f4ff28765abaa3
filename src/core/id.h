/*
 * id.h — time-ordered 128-bit identifiers (UUIDv7, RFC 9562).
 *
 * 48 bits of Unix milliseconds, then a 12-bit sub-millisecond sequence
 * (RFC 9562 section 6.2 method 1), then 62 random bits. Ids made by one process
 * are strictly increasing, even within one millisecond and across threads, so
 * they append at the right edge of a B-tree index.
 */
#ifndef PB_CORE_ID_H
#define PB_CORE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pb_id {
    uint8_t b[16];
} pb_id;

#define PB_ID_STR_LEN 36 /* "0190f1c2-...": 8-4-4-4-12, lower-case hex */

/* A new id, strictly greater than every id this process made before. Thread-safe. */
void pb_id_new(pb_id *out);
/* Writes the canonical lower-case form and a NUL into out (PB_ID_STR_LEN + 1 bytes). */
void pb_id_to_string(const pb_id *id, char out[PB_ID_STR_LEN + 1]);
/* Parses the canonical 36-character form (either case); returns 0, or -1 if malformed. */
int pb_id_parse(const char *s, size_t len, pb_id *out);
/* The Unix millisecond timestamp in a UUIDv7. */
int64_t pb_id_unix_ms(const pb_id *id);
/* memcmp order, which is time order for UUIDv7. */
int pb_id_cmp(const pb_id *a, const pb_id *b);
bool pb_id_is_zero(const pb_id *id);

#endif
