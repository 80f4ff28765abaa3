/*
 * store_audit.h — the audit log's rows and the statements the audit domain runs.
 * Included by store.h. Both tables are INSERT-only; nothing here checks the hash
 * chain or signatures (src/audit/ does), it reads and writes rows faithfully —
 * including rows someone changed behind pitboss's back, which it flags.
 *
 * Ownership: rows handed to a callback are valid only during the callback (their
 * before/after texts point into the backend's statement); copy what you keep.
 * A row passed to an insert is borrowed for the duration of the call.
 */
#ifndef PB_STORE_AUDIT_H
#define PB_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

/* Maximum byte lengths of the text columns (a NUL follows in the row buffers). */
#define PB_AUDIT_ACTOR_KIND_MAX 8
#define PB_AUDIT_ACTOR_ID_MAX 64
#define PB_AUDIT_EMAIL_MAX 254
#define PB_AUDIT_ROLE_MAX 32
#define PB_AUDIT_BRAND_MAX 32
#define PB_AUDIT_ACTION_MAX 64
#define PB_AUDIT_TARGET_KIND_MAX 32
#define PB_AUDIT_TARGET_ID_MAX 128
#define PB_AUDIT_REASON_MAX 1000
#define PB_AUDIT_TRACE_MAX 32
#define PB_AUDIT_IP_MAX 45
#define PB_AUDIT_JSON_MAX 65536 /* before / after */
#define PB_AUDIT_KEY_ID_LEN 16  /* hex of 8 bytes */

/* An audit entry, exactly as stored. */
typedef struct pb_store_audit_entry {
    int64_t seq; /* 1, 2, 3, ... without gaps */
    pb_id id;
    int64_t at; /* µs since epoch, UTC; never decreases along seq */
    char actor_kind[PB_AUDIT_ACTOR_KIND_MAX + 1]; /* "staff", "player", "system" */
    char actor_id[PB_AUDIT_ACTOR_ID_MAX + 1];
    char actor_email[PB_AUDIT_EMAIL_MAX + 1];
    char role[PB_AUDIT_ROLE_MAX + 1];
    char brand[PB_AUDIT_BRAND_MAX + 1]; /* "" = global (NULL in the table) */
    char action[PB_AUDIT_ACTION_MAX + 1];
    char target_kind[PB_AUDIT_TARGET_KIND_MAX + 1];
    char target_id[PB_AUDIT_TARGET_ID_MAX + 1];
    const char *before; /* JSON text, or NULL for none (see Ownership above) */
    const char *after;
    char reason[PB_AUDIT_REASON_MAX + 1];
    char trace_id[PB_AUDIT_TRACE_MAX + 1];
    char ip[PB_AUDIT_IP_MAX + 1];
    uint8_t hash[32];
    /* Set by reads only: a column held something pitboss never writes (text longer
     * than its field or holding a NUL byte, an empty brand, a blob of the wrong
     * length, a non-integer time), so the row above is not exactly what is stored. */
    bool malformed;
} pb_store_audit_entry;

/* A signed checkpoint, exactly as stored. */
typedef struct pb_store_audit_checkpoint {
    int64_t id; /* 1, 2, 3, ... */
    int64_t upto_seq;
    uint8_t head_hash[32]; /* the hash of entry upto_seq */
    int64_t at;
    char key_id[PB_AUDIT_KEY_ID_LEN + 1];
    uint8_t public_key[32];
    uint8_t signature[64];
    bool malformed; /* as in pb_store_audit_entry */
} pb_store_audit_checkpoint;

/* The newest entry's chain position. */
typedef struct pb_store_audit_head {
    int64_t seq;
    int64_t at;
    uint8_t hash[32];
} pb_store_audit_head;

/* A query: every non-NULL / non-zero member narrows it; rows come newest first. */
typedef struct pb_store_audit_filter {
    const char *actor_kind;
    const char *actor_id;
    const char *target_kind;
    const char *target_id;
    const char *action;        /* exact action */
    const char *action_prefix; /* actions starting with this ("player.") */
    bool brand_scoped;         /* only entries whose brand is one of brands[0..nbrands) */
    const char *const *brands;
    size_t nbrands;
    int64_t from_us; /* at >= from_us when non-zero (checked row by row: narrow */
    int64_t to_us;   /* at <  to_us when non-zero    with min_seq / max_seq too) */
    int64_t min_seq; /* seq >= min_seq when non-zero */
    int64_t max_seq; /* seq <= max_seq when non-zero (the page cursor) */
    size_t limit;    /* at most this many rows (≥ 1) */
} pb_store_audit_filter;

/* Callbacks of the scans: return non-zero to stop (the scan then returns PB_STORE_OK). */
typedef int (*pb_store_audit_entry_cb)(void *ctx, const pb_store_audit_entry *e);
typedef int (*pb_store_audit_checkpoint_cb)(void *ctx, const pb_store_audit_checkpoint *cp);

/* The newest entry; NOT_FOUND when the log is empty. */
pb_store_rc pb_store_audit_head_get(pb_store_conn *c, pb_store_audit_head *out);
/* INSERT only. CONFLICT when the seq (a concurrent appender won) or the id exists. */
pb_store_rc pb_store_audit_entry_insert(pb_store_conn *c, const pb_store_audit_entry *e);
/* Every entry with seq > after_seq, in seq order. */
pb_store_rc pb_store_audit_entry_scan(pb_store_conn *c, int64_t after_seq,
                                      pb_store_audit_entry_cb cb, void *ctx);
/* The entries matching f, newest (highest seq) first, at most f->limit. */
pb_store_rc pb_store_audit_entry_query(pb_store_conn *c, const pb_store_audit_filter *f,
                                       pb_store_audit_entry_cb cb, void *ctx);
/* The first entry (lowest seq) dated at or after at_us; NOT_FOUND when none. */
pb_store_rc pb_store_audit_entry_seq_at(pb_store_conn *c, int64_t at_us, int64_t *seq);

/* INSERT only. CONFLICT when the id exists. */
pb_store_rc pb_store_audit_checkpoint_insert(pb_store_conn *c, const pb_store_audit_checkpoint *cp);
/* The checkpoint with the highest id; NOT_FOUND when there is none. */
pb_store_rc pb_store_audit_checkpoint_last(pb_store_conn *c, pb_store_audit_checkpoint *out);
/* Every checkpoint with id > after_id, in id order. */
pb_store_rc pb_store_audit_checkpoint_scan(pb_store_conn *c, int64_t after_id,
                                           pb_store_audit_checkpoint_cb cb, void *ctx);

/* What a backend implements (reached through pb_store_backend.audit). */
struct pb_store_audit_ops {
    pb_store_rc (*head_get)(pb_store_conn *c, pb_store_audit_head *out);
    pb_store_rc (*entry_insert)(pb_store_conn *c, const pb_store_audit_entry *e);
    pb_store_rc (*entry_scan)(pb_store_conn *c, int64_t after_seq, pb_store_audit_entry_cb cb,
                              void *ctx);
    pb_store_rc (*entry_query)(pb_store_conn *c, const pb_store_audit_filter *f,
                               pb_store_audit_entry_cb cb, void *ctx);
    pb_store_rc (*entry_seq_at)(pb_store_conn *c, int64_t at_us, int64_t *seq);
    pb_store_rc (*checkpoint_insert)(pb_store_conn *c, const pb_store_audit_checkpoint *cp);
    pb_store_rc (*checkpoint_last)(pb_store_conn *c, pb_store_audit_checkpoint *out);
    pb_store_rc (*checkpoint_scan)(pb_store_conn *c, int64_t after_id,
                                   pb_store_audit_checkpoint_cb cb, void *ctx);
};

extern const struct pb_store_audit_ops pb_store_sqlite_audit_ops;

#endif
