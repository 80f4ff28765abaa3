/*
 * audit.h — the tamper-evident audit log: the audit domain's only door.
 *
 * Every staff action, configuration change, login, failed login and staff-caused
 * money movement appends one entry: who (actor, role, brand), what (action,
 * target, before/after JSON), why (reason), and from where (trace id, ip).
 *
 *   - Append-only and hash-chained: entry n's hash is SHA-256 over a domain tag,
 *     entry n-1's hash and every field of entry n (docs/audit-format.md). An
 *     entry is appended INSIDE the caller's write transaction, so the audited
 *     change and its entry commit (or roll back) together.
 *   - Signed checkpoints: periodically the chain head (seq, hash) is signed with
 *     an Ed25519 key kept in a key file; the public key is stored beside the
 *     signature and the verifier decides which public keys it trusts. A chain
 *     that was changed and then re-hashed no longer matches a signed head.
 *   - Verify recomputes the chain and checks every signature, reporting each
 *     violation and naming the first broken entry.
 *   - Query (filters, newest-first cursor pages) for the back office, and a JSON
 *     lines export a regulator can verify without pitboss.
 *
 * Threads: every function takes the caller's connection (one thread at a time);
 * a pb_audit_key may be shared by threads (it is only read).
 */
#ifndef PB_AUDIT_AUDIT_H
#define PB_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "store/store.h"

/* ---- appending ---- */

/*
 * What happened, as the caller describes it. Every pointer is borrowed for the
 * call; NULL and "" both mean "none" except where noted.
 *   actor_kind   "staff", "player" or "system" (required)
 *   actor_id     the actor's id (≤ 64 visible ASCII); "" only when the actor is
 *                unknown, e.g. a failed login for an email no account has
 *   actor_email  ≤ 254 bytes of UTF-8 (for a failed login: the email typed)
 *   role         the staff member's role ([a-z0-9_.-], ≤ 32)
 *   brand        the brand code the action concerns (visible ASCII, ≤ 32); none = global
 *   action       "domain.verb": lower-case [a-z0-9_] segments joined by single
 *                dots, at least two segments, ≤ 64 ("player.block", "staff.login_failed")
 *   target_kind  what was acted on ([a-z0-9_], ≤ 32: "player", "brand", "account")
 *   target_id    its id (UTF-8, ≤ 128); requires target_kind
 *   before/after the state before and after as JSON text (≤ 64 KiB each); NULL = none
 *   reason       why, as typed by staff (UTF-8, ≤ 1000; tabs and newlines allowed)
 *   trace_id     the request's W3C trace id (≤ 32 of [0-9a-zA-Z-])
 *   ip           the client's IPv4 or IPv6 address (textual)
 */
typedef struct pb_audit_entry {
    const char *actor_kind;
    const char *actor_id;
    const char *actor_email;
    const char *role;
    const char *brand;
    const char *action;
    const char *target_kind;
    const char *target_id;
    const char *before;
    const char *after;
    const char *reason;
    const char *trace_id;
    const char *ip;
} pb_audit_entry;

/* An entry and a checkpoint as stored (see store_audit.h for the fields). */
typedef pb_store_audit_entry pb_audit_record;
typedef pb_store_audit_checkpoint pb_audit_checkpoint_record;

/* Checks e against the rules above without touching the database. PB_OK, or
 * FIELD_INVALID with *bad_field (may be NULL) naming the first bad field. API
 * handlers call it to reject bad input (a too-long reason) before writing. */
pb_err pb_audit_validate(const pb_audit_entry *e, const char **bad_field);

/*
 * Appends e to the chain, dated `now` (µs; clamped so that time never goes
 * backwards along the chain). MUST run inside the caller's open write
 * transaction (pb_store_begin(c, PB_STORE_WRITE)): it reads the chain head,
 * takes seq = head + 1 and inserts; the caller's commit makes it durable and
 * its rollback removes it. Returns PB_OK; FIELD_INVALID for a bad entry (nothing
 * written); STORE_UNAVAILABLE when the store is busy or another appender took
 * the seq (roll back and retry the whole transaction); INTERNAL otherwise.
 */
pb_err pb_audit_append(pb_store_conn *c, const pb_audit_entry *e, int64_t now);

/* The hash of record r given its predecessor's hash (all zero for seq 1). For
 * verification tools and tests; the layout is in docs/audit-format.md. */
void pb_audit_entry_hash(const pb_audit_record *r, const uint8_t prev[32], uint8_t out[32]);

/* ---- the signing key ---- */

#define PB_AUDIT_KEY_FILE "audit-ed25519.key" /* in the keys directory, mode 0600 */

typedef struct pb_audit_pubkey {
    uint8_t b[32];
} pb_audit_pubkey;

typedef struct pb_audit_key pb_audit_key; /* an Ed25519 key pair, in locked memory */

/* Loads DIR/audit-ed25519.key (64 hex digits: the key's 32-byte seed). The file
 * must be a regular file no one but its owner can read (mode 0600 or 0400).
 * AUDIT_KEY_MISSING (reason in err) when it is absent, unreadable, malformed or
 * too open. Free with pb_audit_key_free(). */
pb_err pb_audit_key_load(const char *dir, pb_audit_key **out, char *err, size_t errcap);
/* As pb_audit_key_load, but when the file does not exist creates a new random
 * key there (and the directory, mode 0700, if missing) atomically: concurrent
 * callers end up with the same key. *created (may be NULL) tells which. */
pb_err pb_audit_key_load_or_create(const char *dir, pb_audit_key **out, bool *created, char *err,
                                   size_t errcap);
void pb_audit_key_free(pb_audit_key *k);
const pb_audit_pubkey *pb_audit_key_public(const pb_audit_key *k);
/* The key id: hex of the first 8 bytes of SHA-256(public key). */
const char *pb_audit_key_id(const pb_audit_key *k);
/* The Ed25519 signature of msg[0..n) (the ledger anchors are signed with this
 * key too: src/ledger/anchor.c, their own domain-separated message). */
void pb_audit_key_sign(const pb_audit_key *k, const uint8_t *msg, size_t n, uint8_t sig[64]);

void pb_audit_pubkey_id(const pb_audit_pubkey *pk, char out[PB_AUDIT_KEY_ID_LEN + 1]);
void pb_audit_pubkey_hex(const pb_audit_pubkey *pk, char out[65]);
/* Parses 64 hex digits; 0, or -1 when malformed. */
int pb_audit_pubkey_parse(const char *hex, pb_audit_pubkey *out);

/*
 * Key rotation. A retired signing key stays trusted for the checkpoints it
 * signed before it was retired, and only those: DIR/audit-retired.pub lists one
 * retired key a line, "<public key, 64 hex digits> <seq>", the seq being the
 * chain head it signed last (a checkpoint of that key covering a later seq is
 * untrusted: whoever holds the old secret cannot sign the chain's future).
 * Lines starting with '#' and empty lines are ignored.
 */
#define PB_AUDIT_RETIRED_FILE "audit-retired.pub"
/* At most this many trusted keys in all (the key in use, the retired ones, any
 * --trust-key): a longer list is refused by every loader, never cut short, and
 * rotate-key refuses to retire a key that would not fit. */
#define PB_AUDIT_TRUST_MAX 64

/* A key a verifier trusts, and the highest seq a checkpoint it signed may cover
 * (INT64_MAX: any; the key in use). */
typedef struct pb_audit_trust {
    pb_audit_pubkey pk;
    int64_t upto_max;
} pb_audit_trust;

/* The keys the keys directory says to trust: the signing key in use (if its file
 * is there: *have_key) with no bound, then every retired key with its bound,
 * into out[*n..cap) (*n grows). PB_OK, also when neither file exists;
 * AUDIT_KEY_MISSING with err naming the line when the retired list is malformed
 * or longer than the room left; INTERNAL when it cannot be read. */
pb_err pb_audit_trust_load(const char *dir, pb_audit_trust *out, size_t cap, size_t *n,
                           bool *have_key, char *err, size_t errcap);

/*
 * Rotates the signing key in DIR: signs a last checkpoint of the chain with the
 * key in use (its head H), appends that key's public half to the retired list
 * with bound H (synced), installs a new random key in its place (written beside
 * it, synced, renamed over it: the old secret is gone), and signs the head with
 * the new key when the log has entries beyond H. Refuse to run it while a
 * server has the database open (the server keeps signing with the key it
 * loaded): the CLI claims the writer lock first. Refused (AUDIT_KEY_MISSING,
 * nothing done) when the retired list is malformed or already full (the key in use
 * and the retired ones are PB_AUDIT_TRUST_MAX). *old_out and *new_out receive
 * the public keys; *head the bound. A failure before the rename leaves the old
 * key in use (a retired line naming the key in use is ignored while it is).
 */
pb_err pb_audit_key_rotate(pb_store_conn *c, const char *dir, int64_t now, pb_audit_pubkey *old_out,
                           pb_audit_pubkey *new_out, int64_t *head, char *err, size_t errcap);

/* ---- checkpoints ---- */

#define PB_AUDIT_CHECKPOINT_EVERY_ENTRIES 1000
#define PB_AUDIT_CHECKPOINT_EVERY_US (10LL * 60 * 1000000) /* 10 minutes */

/* The policy: a checkpoint is due when entries exist that no checkpoint covers
 * and either PB_AUDIT_CHECKPOINT_EVERY_ENTRIES of them accumulated or the last
 * checkpoint (NULL: there is none) is PB_AUDIT_CHECKPOINT_EVERY_US old. */
bool pb_audit_checkpoint_due(const pb_audit_checkpoint_record *last, int64_t head_seq, int64_t now);

/*
 * Signs the chain head with k and inserts a checkpoint, in its own write
 * transaction (do not call it inside one). When the head is already covered by
 * the last checkpoint, or the log is empty, nothing is written. *out (may be
 * NULL) receives the newest checkpoint afterwards (id 0: none exists) and
 * *written (may be NULL) whether this call wrote it. STORE_UNAVAILABLE when the
 * store is busy (try again at the next period); INTERNAL otherwise.
 */
pb_err pb_audit_checkpoint(pb_store_conn *c, const pb_audit_key *k, int64_t now,
                           pb_audit_checkpoint_record *out, bool *written);
/* The same, but only when pb_audit_checkpoint_due() says so (decided inside the
 * transaction). The server calls this periodically (e.g. every minute). */
pb_err pb_audit_checkpoint_if_due(pb_store_conn *c, const pb_audit_key *k, int64_t now,
                                  pb_audit_checkpoint_record *out, bool *written);

typedef struct pb_audit_status {
    int64_t head_seq; /* 0: empty log */
    int64_t head_at;
    pb_audit_checkpoint_record last_checkpoint; /* id 0: none */
} pb_audit_status;
/* The chain head and the last checkpoint, in one read transaction (for metrics). */
pb_err pb_audit_status_get(pb_store_conn *c, pb_audit_status *out);

/* ---- verification ---- */

typedef struct pb_audit_verify_summary {
    int64_t entries;          /* entry rows read */
    int64_t head_seq;         /* highest seq stored (0: empty log) */
    int64_t checkpoints;      /* checkpoint rows read */
    int64_t signed_upto;      /* highest seq a valid, trusted checkpoint vouches for */
    int64_t unsigned_entries; /* entries above signed_upto (not a violation: not yet signed) */
    int64_t violations;
    /* The lowest entry seq any violation names (0: the entries are intact), and a
     * line saying what is wrong with it: "seq 17 (id …): hash mismatch". */
    int64_t first_broken_seq;
    char first_broken[384];
    /* The lowest checkpoint id a checkpoint violation names (0: none), and why. */
    int64_t first_broken_checkpoint;
    char first_broken_checkpoint_msg[256];
} pb_audit_verify_summary;

/* Called once per violation with a stable kind ("hash_mismatch", "seq_gap",
 * "checkpoint_signature", ...) and a message naming the entry or checkpoint. */
typedef void (*pb_audit_violation_cb)(void *ctx, const char *kind, const char *message);

/*
 * As of one moment (the chain head and the checkpoints read in one short read
 * transaction, the entries up to that head in chunks of short ones: verify.c):
 * recomputes the hash chain in seq order (seqs must be
 * contiguous from 1: a deleted entry is a gap named by its seq; a changed entry
 * fails its hash, named by seq and id; dates must not go backwards); checks every
 * checkpoint (contiguous ids, key id = fingerprint of its public key, public key
 * in trusted[0..ntrusted), Ed25519 signature) and that each valid one's head hash
 * equals the chain's hash at its upto_seq (entries removed from the end of the
 * log are caught here). Entries above the last valid checkpoint are counted as
 * unsigned. PB_OK when it could run (see summary->violations), else INTERNAL;
 * AUDIT_KEY_MISSING, nothing checked, for more than PB_AUDIT_TRUST_MAX keys.
 */
pb_err pb_audit_verify(pb_store_conn *c, const pb_audit_pubkey *trusted, size_t ntrusted,
                       pb_audit_violation_cb cb, void *ctx, pb_audit_verify_summary *summary);
/* The same with each trusted key bounded (pb_audit_trust: a retired key's
 * checkpoints beyond its bound are "checkpoint_untrusted"). */
pb_err pb_audit_verify_trust(pb_store_conn *c, const pb_audit_trust *trust, size_t ntrust,
                             pb_audit_violation_cb cb, void *ctx, pb_audit_verify_summary *summary);
/* Tests and tuning: entries per read transaction of pb_audit_verify (0: the
 * default, 10,000), and a function called between two chunks (NULL: none).
 * Process-wide; not for use while a verify runs. */
void pb_audit_verify_tune(size_t chunk_rows, void (*between)(void *ctx), void *ctx);

/* ---- query ---- */

#define PB_AUDIT_QUERY_LIMIT_MAX 500
#define PB_AUDIT_QUERY_BRANDS_MAX 64

/* What to look for; NULL / 0 members do not filter. */
typedef struct pb_audit_filter {
    const char *actor_kind;
    const char *actor_id;
    const char *target_kind; /* required with target_id */
    const char *target_id;
    const char *action; /* an action ("player.block") or a prefix ending in '.' ("player.") */
    /* The caller's brand scope: NULL = every entry (global staff); otherwise only
     * entries of these brands (global entries excluded; an empty list sees nothing). */
    const char *const *brands;
    size_t nbrands;
    int64_t from_us; /* at >= from_us */
    int64_t to_us;   /* at <  to_us */
    int64_t cursor;  /* 0 = from the newest; else the previous page's next_cursor */
    size_t limit;    /* 1..PB_AUDIT_QUERY_LIMIT_MAX */
} pb_audit_filter;

typedef struct pb_audit_page {
    pb_audit_record *entries; /* n records; their before/after are owned by the page */
    size_t n;
    int64_t next_cursor; /* 0: no further page */
} pb_audit_page;

/* One page of the entries matching f, newest first, in its own read transaction.
 * PB_OK; INVALID_REQUEST for a bad filter; STORE_UNAVAILABLE or INTERNAL. Free
 * the page with pb_audit_page_free() (also safe on a page a failed call left). */
pb_err pb_audit_query(pb_store_conn *c, const pb_audit_filter *f, pb_audit_page *out);
void pb_audit_page_free(pb_audit_page *p);

/* ---- export ---- */

typedef struct pb_audit_export_opts {
    int64_t since_us; /* entries dated >= since_us; 0 = from the first */
    int64_t until_us; /* entries dated <  until_us; 0 = to the last */
    int64_t now_us;   /* written as exported_at */
    /* Public keys to list in the header besides those of the exported
     * checkpoints (e.g. the configured signing key). */
    const pb_audit_pubkey *keys;
    size_t nkeys;
    /* Rows one read transaction reads at most (0: 1,000; tests make it small).
     * A chunk also ends once its output reaches 256 KiB. */
    size_t chunk_rows;
} pb_audit_export_opts;

typedef struct pb_audit_export_summary {
    int64_t entries;
    int64_t checkpoints;
    int64_t first_seq; /* 0 when nothing was exported */
    int64_t last_seq;
} pb_audit_export_summary;

/*
 * Writes JSON lines to out: a header line
 * {"format":"pitboss-audit-v1","hash":"sha256","signature":"ed25519",
 *  "canonical":…,"public_keys":[{"key_id":…,"public_key":…}],…}, then one line
 * per entry in seq order (every field, its prev_hash and hash), then the
 * checkpoints whose upto_seq falls in the exported range. Everything needed to
 * re-check the chain and the signatures without pitboss (docs/audit-format.md).
 * The log is read in chunks, each in its own short read transaction, with the
 * bounds fixed at the start: the output is what one snapshot taken at the start
 * would give, and no snapshot is held while out is written (export.c).
 * PB_OK; INVALID_REQUEST when since >= until; INTERNAL on a store or write error.
 */
pb_err pb_audit_export(pb_store_conn *c, const pb_audit_export_opts *o, FILE *out,
                       pb_audit_export_summary *summary);

/* The same export in steps, for a caller that records what an export contains
 * before writing it (the server's GET /v1/admin/audit/export). */
typedef struct pb_audit_exporter pb_audit_exporter;

/* Fixes what the export of o will contain, in one short read transaction on c
 * (ended before returning): the last seq, the seq range, the checkpoints inside
 * it and the highest checkpoint id. *plan's entries, first_seq and last_seq come
 * from the seq range (seqs have no gaps), its checkpoints are counted. o->keys
 * is copied. *out: the exporter, or NULL on an error. c must stay open until
 * pb_audit_export_end (the writes read on it). Errors as pb_audit_export. */
pb_err pb_audit_export_begin(pb_store_conn *c, const pb_audit_export_opts *o,
                             pb_audit_exporter **out, pb_audit_export_summary *plan);
/* Writes the JSON lines of what begin fixed to out (once per exporter), reading
 * in chunks, each in its own short read transaction that ends before its bytes
 * go to out (so a slow out pins no snapshot). *written counts the entries
 * written (all of them unless a write to out failed, which stops the export at
 * the next chunk: INTERNAL). Memory does not grow with the export's size. */
pb_err pb_audit_export_write(pb_audit_exporter *x, FILE *out, pb_audit_export_summary *written);
/* Frees x (NULL is fine); nothing is open on the connection. */
void pb_audit_export_end(pb_audit_exporter *x);

#endif
