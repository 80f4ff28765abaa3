/*
 * ledger.h — the double-entry, append-only ledger: the only door to money.
 *
 * Model (after TigerBeetle, kept in SQL; see ARCHITECTURE.md "Ledger model"):
 *  - an account has a currency, a kind, an owner, flags and four counters
 *    (debits_pending, debits_posted, credits_pending, credits_posted);
 *  - a transfer moves `amount` from a debit account to a credit account of the
 *    same currency. It is single-phase, or PENDING (a hold that reserves funds),
 *    or POST_PENDING / VOID_PENDING naming a pending transfer (a post may be
 *    partial; the rest is released), or it expires after its timeout;
 *  - transfers flagged LINKED form a chain with the next one: all of the chain
 *    succeeds or none of it does;
 *  - transfers are never updated or deleted; each one's hash covers its fields
 *    and the previous transfer's hash.
 *
 * Idempotency: every transfer carries a caller key, unique within its scope.
 * Submitting the same request again returns the original result (replayed =
 * true) and writes nothing; the same key with a different request is
 * IDEMPOTENCY_CONFLICT; a key whose first attempt was rejected for a business
 * reason (insufficient funds, pending expired, ...) stays rejected with that code.
 *
 * Writing: one writer thread owns the write connection. pb_ledger_submit()
 * queues a batch and blocks until the writer has committed it durably together
 * with everything else that was queued (group commit). A failing transfer
 * fails only itself (and its linked chain), never its neighbours in the batch.
 *
 * Damaged rows: a transfer whose post/void names a hold whose row is damaged (a
 * column of the wrong type or size, an id not naming its own seq, a hold the
 * open-pending table lists without its flag or resolution), or whose key's stored
 * transfer or rejection is damaged, gets STORE_CORRUPT on its own (its linked
 * chain LINKED_EVENT_FAILED); the rest of the batch goes on, and nothing is
 * remembered under its key: it is transient, like INTERNAL and STORE_UNAVAILABLE
 * (callers must not treat it as a business answer), and the same request succeeds
 * once the row is repaired. Each row is logged once (event "ledger.damaged_row").
 * The expiry sweep skips a due hold it cannot read or void (event
 * "ledger.expiry_skipped", once): it stays open with its accounts' counters
 * untouched, is tried again every 60 s, and the other holds expire. Both are
 * counted in pb_ledger_stats. pb_ledger_verify reports such a row as
 * "malformed_row". A damaged row the writer needs at open (the last transfer, or
 * one above the balance or pending mark) makes pb_ledger_open fail.
 * A damaged account row (a text column not text or too long, flags not an integer
 * or with bits the ledger never sets, created_at not an integer, a balance counter
 * or last_seq not an integer or negative, no balance row) is never used: a transfer,
 * post or void touching it gets STORE_CORRUPT on its own the same way (counted in
 * corrupt_refusals, logged once per account: event "ledger.damaged_account"),
 * pb_ledger_tx_account and the readers (pb_ledger_account_get/find) answer
 * STORE_CORRUPT, and pb_ledger_verify reports "account_malformed". Such an account
 * with transfers above the balance mark makes pb_ledger_open (and the reload after
 * a failed batch) fail, as a damaged transfer there does: its counters cannot be
 * rebuilt.
 *
 * Reading: the query functions take the caller's own store connection and see
 * committed state only; a damaged row is STORE_CORRUPT there too.
 *
 * Ledger threads: commands (pb_ledger_command[_async]) run on the writer thread,
 * and the callbacks of the _async calls on the writer or its notifier thread.
 * Code running there must not wait for the writer: a blocking call
 * (pb_ledger_submit, pb_ledger_command, pb_ledger_account_create,
 * pb_ledger_accounts_create, pb_ledger_close) would wait for its own thread
 * forever. Each of them recognises a ledger thread, does nothing, logs an error
 * (event "ledger.reentrant", naming the call) and returns LEDGER_REENTRANT (every
 * t[i].result / result[i] too; pb_ledger_close just returns); the writer goes on
 * serving. Inside a command use pb_ledger_tx_submit(); from a callback, queue
 * more work with the _async calls, which never wait.
 */
#ifndef PB_LEDGER_LEDGER_H
#define PB_LEDGER_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/id.h"
#include "store/store.h"

/* Account flags. */
enum {
    PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS = 1u << 0, /* player money: never negative */
    PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS = 1u << 1,
};

/* Transfer flags. */
enum {
    PB_TRANSFER_LINKED = 1u << 0,       /* chained with the next transfer in the submission */
    PB_TRANSFER_PENDING = 1u << 1,      /* a hold: reserves the amount until posted or voided */
    PB_TRANSFER_POST_PENDING = 1u << 2, /* posts (part of) the pending transfer pending_id */
    PB_TRANSFER_VOID_PENDING = 1u << 3, /* releases the pending transfer pending_id */
    PB_TRANSFER_EXPIRED = 1u << 4,      /* set by the ledger on the void that expires a hold */
};

/* Well-known transfer codes. Any non-zero code is accepted; these are the platform's. */
enum {
    PB_CODE_DEPOSIT = 1,
    PB_CODE_WITHDRAWAL = 2,
    PB_CODE_BET = 10,
    PB_CODE_WIN = 11,
    PB_CODE_ROLLBACK = 12,
    PB_CODE_BONUS_GRANT = 20,
    PB_CODE_BONUS_CONVERT = 21,
    PB_CODE_BONUS_FORFEIT = 22,
    PB_CODE_ADJUSTMENT = 30,
    PB_CODE_UNCLAIMED_SETTLEMENT = 31, /* a brand's unclaimed funds remitted or recognised */
    PB_CODE_TRANSFER = 40,
};

/* Limits on one submission. */
#define PB_LEDGER_MAX_SUBMIT 8190

typedef pb_store_account pb_ledger_account;
typedef pb_store_transfer pb_ledger_record;

/* One transfer request and, after pb_ledger_submit(), its outcome. */
typedef struct pb_transfer {
    /* request */
    char scope[PB_LEDGER_SCOPE_MAX + 1]; /* idempotency scope, e.g. "wallet", "provider:hub88" */
    char key[PB_LEDGER_KEY_MAX + 1];     /* idempotency key, unique within scope */
    int64_t debit_account_id;            /* post/void: 0 = the pending's */
    int64_t credit_account_id;           /* post/void: 0 = the pending's */
    int64_t amount;                      /* minor units; post: 0 = the full pending amount;
                                            void: 0 or the pending amount */
    char currency[PB_LEDGER_CURRENCY_MAX + 1]; /* post/void: "" = the pending's */
    uint32_t code;                             /* post/void: 0 = the pending's */
    uint32_t flags;
    pb_id pending_id;                            /* post/void: the pending transfer */
    int64_t timeout_s;                           /* pending: seconds until it expires; 0 = never */
    char reference[PB_LEDGER_REFERENCE_MAX + 1]; /* round, bet or payment id */
    char trace_id[PB_LEDGER_TRACE_MAX + 1];      /* W3C trace id of the request */

    /* outcome */
    pb_err result;           /* PB_OK or the stable reason */
    bool replayed;           /* the result is the stored outcome of an earlier submission */
    pb_ledger_record record; /* the stored transfer, when result == PB_OK */
} pb_transfer;

typedef struct pb_ledger pb_ledger;

typedef struct pb_ledger_config {
    size_t max_batch;       /* transfers per commit at most; 0 = 8190 */
    int checkpoint_ms;      /* passive WAL checkpoint interval; 0 = 1000 */
    int expiry_interval_ms; /* how often expired holds are swept when idle; 0 = 200 */
    /* the writer starts the write-ahead log over once its commits have left this
     * many pages in it (see pb_store_wal_restart); 0 = 65536 (256 MiB of 4 KiB
     * pages). Each restart stalls the writer for the last copy and two syncs, so
     * a small value shows in the tail latency: at 4096 the game-money bench had
     * p99 18 ms, at 65536 6.5 ms (and the WAL is replayed on open after a crash,
     * so a large one costs start-up time). */
    int wal_restart_frames;
    /* false (default): the writer commits without waiting for the disk and the
     * notifier thread syncs before answering, so batch N+1 is applied while batch N
     * is synced; true: the writer's COMMIT itself waits for the sync. Callers are
     * answered only after their batch is durable either way. */
    bool sync_in_writer;
    /* With sync_in_writer false: a batch committed while nothing else is queued and
     * the notifier has nothing in hand is synced and answered by the writer itself
     * (false, the default), which spares a light load a hand-off to the notifier
     * per batch; true sends every batch through the notifier. Under load the queue
     * is rarely empty and the notifier syncs as before (see writer.c). */
    bool idle_sync_in_notifier;
    /* With sync_in_writer false: true keeps the writer's transaction open while the
     * notifier is syncing and applies the batches that arrive meanwhile to it,
     * committing them together as the sync ends (commit coalescing, writer.c). A
     * sync then serves one commit, and each page those batches share (the newest
     * transfer rows and index leaves, the chain head, the database header) goes to
     * the write-ahead log once instead of once per batch: less CPU a transfer, but
     * the commit then waits for the sync's end, on the path of every caller (fewer
     * transfers a second with few blocked submitters: docs/benchmarks-log.md).
     * false (the default): every batch commits at once. Callers are answered only
     * after their batch is durable either way. */
    bool coalesce;
    /* How long an account's changed counters may live only in memory and in the
     * log before the writer writes its ledger_balance row back (ms); 0 = 1000,
     * negative = at every commit. Rows are written back by age, a few per batch,
     * so a busy account costs one row write per interval instead of one per
     * commit; a crash loses nothing (the rows are rebuilt from the transfers
     * above the balance mark when the ledger opens), readers see the committed
     * counters either way (live.c). */
    int balance_flush_ms;
    /* Give the writer a CPU of its own (core/cpu.h): it is pinned to the CPU
     * the process may use that has served the fewest device interrupts
     * (pb_cpu_quietest_allowed: on this VM every disk completion lands on one
     * CPU, and a writer there pays for its own fsyncs' completions in interrupt
     * time), the ledger's notifier and checkpointer keep off it, and
     * the caller keeps its own busy threads off it with
     * pb_cpu_avoid(pb_ledger_writer_cpu(l)) before creating them. Measured on the
     * 2-vCPU machine (bench ledger, 64 submitters): fewer preemptions of the
     * writer and cheaper wake-ups. Ignored when the process may use one CPU. */
    bool pin_writer;
    /* Reserve the write-ahead log's file up to its restart size (wal_restart_frames
     * and a sixteenth) when the writer starts (pb_store_wal_reserve): commits then
     * overwrite the file instead of extending it, and their syncs write no file
     * system journal. Costs one write of the reserve (~270 MB of 4 KiB pages) the
     * first time a database is opened; the file keeps its size after that. */
    bool wal_reserve;
    /* The clock for timeouts (µs since epoch); NULL = the wall clock. For tests. */
    int64_t (*now_us)(void *ctx);
    void *now_ctx;
} pb_ledger_config;

/* Starts the writer on `store` (already migrated). cfg may be NULL. NULL on failure. */
pb_ledger *pb_ledger_open(pb_store *store, const pb_ledger_config *cfg, char *err, size_t errcap);
/* The CPU the writer is pinned to (pb_ledger_config.pin_writer), or -1. */
int pb_ledger_writer_cpu(const pb_ledger *l);
/* Finishes every queued submission, then stops the writer and frees the ledger. */
void pb_ledger_close(pb_ledger *l);

/*
 * Creates an account (durably, through the writer). Fill brand, owner, kind,
 * currency and flags; id 0 lets the ledger assign it. On PB_OK *a holds the
 * stored account. ACCOUNT_EXISTS when (brand, owner, kind, currency) exists.
 */
pb_err pb_ledger_account_create(pb_ledger *l, pb_ledger_account *a);

/*
 * Creates n accounts (1..PB_LEDGER_MAX_SUBMIT) as pb_ledger_account_create would
 * one by one, but queued together, so that they share the writer's commits
 * instead of paying a durable commit each. result[i] is a[i]'s outcome (each
 * account stands alone: one refused does not stop the others); ids are assigned
 * in array order. Returns INVALID_REQUEST for a bad n, else PB_OK.
 */
pb_err pb_ledger_accounts_create(pb_ledger *l, pb_ledger_account *a, size_t n, pb_err *result);

/*
 * Submits n transfers (1..PB_LEDGER_MAX_SUBMIT) and waits until they are
 * durable. Each transfer gets its own result. Returns PB_OK when the batch was
 * processed (look at each t[i].result), BATCH_TOO_LARGE, LINKED_CHAIN_OPEN when
 * the last transfer is LINKED (nothing is processed then), or INTERNAL/
 * STORE_UNAVAILABLE when the commit failed: then nothing of it happened and the
 * same submission may be retried safely. LEDGER_REENTRANT on a ledger thread
 * (see the top): nothing is queued.
 */
pb_err pb_ledger_submit(pb_ledger *l, pb_transfer *t, size_t n);

/* Called once a submission made with pb_ledger_submit_async() is finished: status
 * is what pb_ledger_submit() would have returned, and each t[i] holds its outcome. */
typedef void (*pb_ledger_done_cb)(void *ctx, pb_err status);

/*
 * pb_ledger_submit() without blocking, for event-driven callers (the HTTP server
 * suspends the request and resumes it from cb). `t` must stay valid until cb
 * runs. cb runs exactly once: on a ledger thread after the commit, or on the
 * calling thread before this returns when nothing needed the writer (every
 * chain failed its stateless checks, or the submission was refused). Returns
 * PB_OK when cb has been or will be called, INTERNAL (cb not called) on OOM.
 */
pb_err pb_ledger_submit_async(pb_ledger *l, pb_transfer *t, size_t n, pb_ledger_done_cb cb,
                              void *ctx);

/* ---- commands: domain logic that runs inside the writer's batch ---- */

/*
 * A command is a function the writer runs on its own thread, inside the open
 * write transaction of a batch, between the other jobs of that batch. It sees
 * every change made before it (committed or earlier in the batch), may read and
 * write its own domain's rows through pb_ledger_tx_conn() and may submit
 * transfers with pb_ledger_tx_submit(); all of it becomes durable in the same
 * commit as the transfers, or not at all. Commands are serialised with every
 * other writer job, so a command's reads and its decisions cannot race.
 *
 * Rules for a command:
 *  - decide before writing: read, check, then submit transfers, then write its
 *    own rows only for what succeeded. A business refusal is part of its
 *    outcome (kept in its ctx), not an error;
 *  - return PB_ERR_INTERNAL only when a store call failed: the whole batch is
 *    then rolled back and every job in it finishes with that failure, so the
 *    caller must treat the command as not having happened (and may retry it);
 *  - be quick and never block: it holds up every caller in the batch. In
 *    particular it never makes a blocking ledger call (refused with
 *    LEDGER_REENTRANT, see the top): pb_ledger_tx_submit() is its way in.
 */
typedef struct pb_ledger_tx pb_ledger_tx;
typedef pb_err (*pb_ledger_command_fn)(pb_ledger_tx *tx, void *ctx);

/* Runs fn(tx, ctx) in the writer and waits until its batch is durable. Returns
 * what fn returned, or the batch's failure (INTERNAL / STORE_UNAVAILABLE). */
pb_err pb_ledger_command(pb_ledger *l, pb_ledger_command_fn fn, void *ctx);
/* The same without blocking: cb(cb_ctx, status) runs once the batch is durable
 * (or failed), on a ledger thread. PB_OK when cb will be called, INTERNAL (cb not
 * called) on OOM. */
pb_err pb_ledger_command_async(pb_ledger *l, pb_ledger_command_fn fn, void *ctx,
                               pb_ledger_done_cb cb, void *cb_ctx);

/* Inside a command: the writer's connection (a write transaction is open; never
 * begin, commit or roll back on it). */
pb_store_conn *pb_ledger_tx_conn(pb_ledger_tx *tx);
/* Inside a command: the batch's clock (µs since the epoch). */
int64_t pb_ledger_tx_now(const pb_ledger_tx *tx);
/* Inside a command: an account with its counters as of this point of the batch.
 * ACCOUNT_NOT_FOUND, STORE_CORRUPT (its row is damaged), or INTERNAL. */
pb_err pb_ledger_tx_account(pb_ledger_tx *tx, int64_t id, pb_ledger_account *out);
/* Inside a command: submits transfers with exactly the rules of pb_ledger_submit()
 * (stateless checks, idempotency, linked chains); each t[i] gets its outcome at
 * once. Returns PB_OK (look at each t[i].result), the submission's refusal
 * (BATCH_TOO_LARGE, LINKED_CHAIN_OPEN, INVALID_REQUEST), or INTERNAL, which the
 * command must return. */
pb_err pb_ledger_tx_submit(pb_ledger_tx *tx, pb_transfer *t, size_t n);

/* Counters of the writer, for metrics and benchmarks. */
typedef struct pb_ledger_stats {
    uint64_t batches; /* batches applied */
    /* transactions committed: fewer than batches when batches applied while the
     * notifier synced were committed together (pb_ledger_config.coalesce) */
    uint64_t commits;
    uint64_t transfers; /* transfer requests processed (any result) */
    uint64_t commit_us_total;
    uint64_t cpu_us_total; /* CPU time of the writer thread in batches (excludes waiting) */
    uint64_t max_batch_seen;
    uint64_t checkpoints; /* passive checkpoints run by the checkpointer thread */
    /* the notifier's syncs (pipelined mode): each makes every batch committed so far
     * durable before their callers are answered; transfers / syncs is how many one
     * sync serves, sync_us_total / syncs its mean duration */
    uint64_t syncs;
    uint64_t sync_us_total;
    /* of syncs, those the writer made itself for a batch committed while nothing
     * else was queued (pb_ledger_config.idle_sync_in_notifier) */
    uint64_t syncs_inline;
    /* transfers refused STORE_CORRUPT: a row they depend on (the hold a post or
     * void names, the stored transfer or rejection of their key, an account they
     * touch) is damaged */
    uint64_t corrupt_refusals;
    /* holds due to expire that the sweep skipped because their row is damaged or
     * their void failed (each hold counted once); they stay open, their accounts'
     * counters untouched, until the row is repaired */
    uint64_t expiry_skipped;
} pb_ledger_stats;
void pb_ledger_stats_get(pb_ledger *l, pb_ledger_stats *out);

/* ---- reading (committed state, on the caller's connection) ---- */

/* Available balance of an account that may not overdraw: credits_posted - debits_posted - debits_pending. */
int64_t pb_ledger_available(const pb_ledger_account *a);

pb_err pb_ledger_account_get(pb_store_conn *c, int64_t id, pb_ledger_account *out);
pb_err pb_ledger_account_find(pb_store_conn *c, const char *brand, const char *owner,
                              const char *kind, const char *currency, pb_ledger_account *out);
pb_err pb_ledger_transfer_get(pb_store_conn *c, const pb_id *id, pb_ledger_record *out);
pb_err pb_ledger_transfer_by_key(pb_store_conn *c, const char *scope, const char *key,
                                 pb_ledger_record *out);
/* Whether the ledger has answered (scope, key) already: *answered when a transfer is
 * stored under it or a business refusal is remembered under it (pb_transfer: the
 * same request replays that answer, another is IDEMPOTENCY_CONFLICT). For a caller
 * that would otherwise record a promise to submit under the key later (a 4-eyes
 * request): the key's answer is the ledger's to give now. STORE_CORRUPT for a
 * damaged row, else INTERNAL / STORE_UNAVAILABLE on a store failure. */
pb_err pb_ledger_key_answered(pb_store_conn *c, const char *scope, const char *key, bool *answered);

/* A page of an account's transfers, newest first. */
typedef struct pb_ledger_history_query {
    int64_t account_id;
    int64_t from_us; /* created_at >= from_us; 0 = no lower bound */
    int64_t to_us;   /* created_at <  to_us;   0 = no upper bound */
    uint32_t code;   /* 0 = any */
    int64_t cursor;  /* 0 = start at the newest; else the next_cursor of the previous page */
    size_t limit;    /* 1..1000 */
} pb_ledger_history_query;

/* Fills out[0..*n) and sets *next_cursor (0 when there is no further page). */
pb_err pb_ledger_account_history(pb_store_conn *c, const pb_ledger_history_query *q,
                                 pb_ledger_record *out, size_t *n, int64_t *next_cursor);

/* ---- verification ---- */

typedef struct pb_ledger_verify_summary {
    int64_t transfers;
    int64_t accounts;
    int64_t open_pendings;
    int64_t violations;
    int64_t balances_seq; /* the balance mark: every row holds the transfers up to it */
    int64_t lagging_rows; /* balance rows that do not hold their account's newest transfer yet */
    int64_t pending_seq;  /* the pending mark: ledger_pending_open is exact up to it */
    int64_t unlisted_pendings; /* open holds above the pending mark not in the table yet */
    int64_t anchors;           /* ledger_anchor rows read */
    int64_t anchored_seq;      /* the highest transfer seq an anchor covers (0: none) */
    bool signatures_checked;   /* the anchors' signatures were checked against trusted keys */
} pb_ledger_verify_summary;

/* Called once per violation with a stable kind ("balance_mismatch", "hash_chain", ...)
 * and a precise human-readable message naming the account or transfer. */
typedef void (*pb_ledger_violation_cb)(void *ctx, const char *kind, const char *message);

/*
 * Rebuilds every account's counters from the transfers and checks: stored
 * counters equal the rebuilt ones as of the row's own last_seq (rows are written
 * back lazily: a row may lag behind its account's newest transfers, never behind
 * the balance mark); debits = credits per currency (posted and
 * pending); no account breaks its flags (no player account negative); every
 * pending transfer is resolved at most once, by a later transfer, and the
 * open-pending projection matches; every account chain and the hash chain are
 * intact and seqs are contiguous. As of one moment, without holding one read
 * transaction for the whole ledger (verify.c: chunks). Returns PB_OK
 * when it could run (look at summary->violations), INTERNAL otherwise.
 */
pb_err pb_ledger_verify(pb_store_conn *c, pb_ledger_violation_cb cb, void *ctx,
                        pb_ledger_verify_summary *summary);
/*
 * The same, also checking the signed ledger anchors (anchor.c): every anchor's
 * transfer exists and has the anchored hash ("anchor_transfer": a rewritten or
 * truncated history), the accounts of its id range hash to its digest
 * ("anchor_accounts": an account's brand, owner, kind, currency, flags or
 * created_at changed, or an account added or removed there), the rejections of
 * its seq range hash to its rejections digest ("anchor_rejections": one
 * deleted, inserted or changed; anchors from before migration 0045 have none),
 * the anchors follow one another ("anchor_chain": ids from 1 without gaps,
 * ranges contiguous, heads not going back, no anchor without rejections after
 * one with them; "anchor_malformed"), and, when check_signatures, that each is
 * signed by one of trusted[0..ntrusted) ("anchor_untrusted") with a valid
 * signature ("anchor_signature"). trusted is in rotation order: retired keys
 * oldest first, the key in use last; an anchor signed by a key older than the
 * key of an earlier anchor is untrusted (a retired key cannot sign the ledger's
 * future). The last nunordered of trusted (keys a verifier names itself, as
 * `audit verify --trust-key` does, with no rotation order) are trusted for any
 * anchor and take no part in that order. pb_ledger_verify is this with no keys
 * and check_signatures false.
 */
typedef struct pb_ledger_verify_keys {
    const uint8_t (*trusted)[32];
    size_t ntrusted;
    size_t nunordered; /* <= ntrusted: the last ones are trusted in any order */
    bool check_signatures;
} pb_ledger_verify_keys;
pb_err pb_ledger_verify_anchored(pb_store_conn *c, const pb_ledger_verify_keys *keys,
                                 pb_ledger_violation_cb cb, void *ctx,
                                 pb_ledger_verify_summary *summary);

/* ---- anchors (anchor.c) ---- */

/* pitboss serve anchors the ledger this often when something is new (its
 * PITBOSS_LEDGER_ANCHOR_EVERY, seconds, changes it). */
#define PB_LEDGER_ANCHOR_PERIOD_MS 60000

/* What serve's anchorer reports on /metrics (written by its thread, read by
 * any): the newest anchor in the database (read at start, then each one it
 * writes), the anchors it wrote and its attempts that failed. */
typedef struct pb_ledger_anchor_stats {
    _Atomic int64_t seq;        /* the newest anchor's transfer seq (0: none yet) */
    _Atomic int64_t created_at; /* its created_at, µs since the epoch (0: no anchor) */
    _Atomic uint64_t written;   /* anchors written by this process */
    _Atomic uint64_t failures;  /* anchoring attempts that failed (each logged) */
} pb_ledger_anchor_stats;
#define PB_LEDGER_ANCHOR_MSG_LEN 208 /* 160 before migration 0045 */

/* Who signs: the public key and a function writing the Ed25519 signature of msg. */
typedef struct pb_ledger_signer {
    uint8_t public_key[32];
    void (*sign)(void *ctx, const uint8_t *msg, size_t n, uint8_t sig[64]);
    void *ctx;
} pb_ledger_signer;

/* Writes anchor last.id + 1 over the transfer head and the accounts created
 * since the last anchor, when either is new (else writes nothing): read in one
 * read transaction, inserted in a write transaction of its own (do not call it
 * inside one). *out (may be NULL) receives the anchor written, *written whether
 * one was. STORE_UNAVAILABLE when the store was busy or another process
 * anchored at the same time (try at the next period), INTERNAL otherwise; both
 * logged. */
pb_err pb_ledger_anchor(pb_store_conn *c, const pb_ledger_signer *s, int64_t now,
                        pb_store_ledger_anchor *out, bool *written);

/* The signed message of an anchor (every field but key_id and signature); its length. */
size_t pb_ledger_anchor_message(const pb_store_ledger_anchor *a,
                                uint8_t out[PB_LEDGER_ANCHOR_MSG_LEN]);
/* The key id of a public key: hex of the first 8 bytes of its SHA-256 (as the
 * audit checkpoints name theirs). */
void pb_ledger_anchor_key_id(const uint8_t pk[32], char out[17]);
/* The accounts digest, fed account by account in id order. */
typedef struct pb_ledger_anchor_digest {
    _Alignas(16) uint8_t state[128];
} pb_ledger_anchor_digest;
void pb_ledger_anchor_digest_init(pb_ledger_anchor_digest *d);
void pb_ledger_anchor_digest_add(pb_ledger_anchor_digest *d, const pb_store_account *a);
void pb_ledger_anchor_digest_final(pb_ledger_anchor_digest *d, uint8_t out[32]);
/* The rejections' digest (every column of each, seq first, in seq order); its
 * final is pb_ledger_anchor_digest_final. */
void pb_ledger_anchor_rejections_init(pb_ledger_anchor_digest *d);
void pb_ledger_anchor_rejections_add(pb_ledger_anchor_digest *d, const pb_store_rejection *r);

/* Tests and tuning: transfers per read transaction of pb_ledger_verify (0: the
 * default, 20,000), and a function called between two chunks (NULL: none).
 * Process-wide; not for use while a verify runs. */
void pb_ledger_verify_tune(size_t chunk_rows, void (*between)(void *ctx), void *ctx);

/* The transfer's hash given the previous one (exposed for verification tools and tests). */
void pb_ledger_hash(const pb_ledger_record *t, const uint8_t prev[32], uint8_t out[32]);

#endif
