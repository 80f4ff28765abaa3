/*
 * ledger_internal.h — state shared by the ledger's files (private to src/ledger/).
 *
 * Threads: callers of pb_ledger_submit() enqueue jobs under `mu` and wait on
 * their job's semaphore; the writer thread owns everything below "writer-only".
 */
#ifndef PB_LEDGER_INTERNAL_H
#define PB_LEDGER_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "ledger/ledger.h"

typedef enum { JOB_TRANSFERS, JOB_ACCOUNT, JOB_COMMAND } job_kind;

typedef struct ledger_job {
    job_kind kind;
    pb_transfer *t; /* JOB_TRANSFERS */
    size_t n;
    pb_ledger_account *account; /* JOB_ACCOUNT */
    pb_ledger_command_fn fn;    /* JOB_COMMAND */
    void *fn_ctx;
    pb_err status;            /* set by the writer before posting `done` */
    sem_t done;               /* synchronous jobs: posted when finished */
    bool relay;               /* a blocked caller that passes the wake-up on (writer.c) */
    struct wake_group *group; /* with relay: its sync's callers, and its place there */
    size_t idx;
    pb_ledger_done_cb cb; /* asynchronous jobs: called when finished, then the job is freed */
    void *cb_ctx;
    struct ledger_job *next;
} ledger_job;

/* A cached account: the writer's authoritative in-memory copy of its counters. */
typedef struct cached_account {
    pb_store_account a;
    bool dirty;        /* counters changed in the open batch */
    bool unflushed;    /* counters newer than the account's balance row in the store */
    int64_t since_us;  /* unflushed since (monotonic clock, µs) */
    int64_t since_seq; /* every transfer of the account up to since_seq - 1 is in its row */
    struct cached_account *next_unflushed; /* the write-back queue, oldest first */
} cached_account;

/* An open hold created by this writer (engine.c keeps them to settle without a read).
 * An unflushed one is not in ledger_pending_open yet (writeback.c): the writer's
 * memory is then its only open-pending record, so it is never dropped. */
typedef struct hold_entry {
    pb_id id;
    int64_t seq; /* 0 marks an empty slot */
    int64_t amount, debit, credit, expires_at;
    uint32_t code;
    bool flushed; /* in ledger_pending_open */
    char currency[PB_LEDGER_CURRENCY_MAX + 1];
} hold_entry;

/* The holds not yet in ledger_pending_open, in seq order (a ring). An entry whose
 * hold was resolved since is stale: skipped when it comes up. */
typedef struct lazy_hold {
    pb_id id;
    int64_t seq;
    int64_t since_us; /* monotonic clock */
} lazy_hold;

/* A transfer row found damaged (damaged.c): logged once; a due hold among them is
 * skipped by the expiry sweep until retry_at (the writer's clock; 0: not a
 * hold the sweep skipped). */
#define PB_LEDGER_DAMAGED_RETRY_US 60000000 /* a skipped hold is tried again after 60 s */
typedef struct damaged_row {
    int64_t seq;
    int64_t retry_at;
} damaged_row;

/* Saved counters of an account, to undo a failed linked chain. */
typedef struct undo_entry {
    cached_account *acct;
    int64_t counters[5]; /* dp, dpo, cp, cpo, last_seq */
} undo_entry;

typedef struct pb_ledger_live pb_ledger_live;

/* txid.c: the key transfer ids are enciphered under, and the legacy range. */
#define PB_LEDGER_ID_KEY_LEN 16
typedef struct pb_ledger_ids {
    uint8_t key[PB_LEDGER_ID_KEY_LEN];
    int64_t legacy_below; /* transfers below this seq have random (pre-0010) ids */
} pb_ledger_ids;

struct pb_ledger {
    pb_store *store;
    pb_ledger_config cfg;

    pthread_mutex_t mu;
    pthread_cond_t wake; /* the writer waits here for work (only when it found none) */
    /* submissions: a lock-free stack callers push onto (newest first); the
     * writer takes all of it at once and keeps what did not fit in one batch in
     * head..tail (FIFO, writer-only) */
    ledger_job *_Atomic inbox;
    _Atomic bool writer_sleeping; /* set, under mu, while the writer waits on `wake` */
    ledger_job *head, *tail;
    _Atomic bool stopping;
    pthread_t writer;
    pthread_t checkpointer;
    bool writer_started, checkpointer_started, notifier_started;
    int writer_cpu; /* pinned writer's CPU, or -1 */
    /* batches whose callers are to be woken, handed from the writer to the notifier */
    pthread_t notifier;
    pthread_mutex_t notify_mu;
    pthread_cond_t notify_wake;
    ledger_job *notify_head, *notify_tail;
    bool notify_stop;
    bool notify_busy; /* under notify_mu: the notifier holds batches it has not answered */
    /* commit coalescing (writer.c): `handed` from the writer's hand-over of
     * committed batches until the notifier takes them, `syncing` from then until
     * their sync is over; while either is set, the writer holds its commit back */
    _Atomic bool handed, syncing;
    /* the writer has applied batches it has not committed (written by the writer;
     * the notifier reads it to know whether the end of a sync must wake it) */
    _Atomic bool tx_open;
    /* every sync of committed batches (the notifier's and the writer's own, see
     * writer.c), read by pb_ledger_stats_get; syncs_inline counts the writer's */
    _Atomic uint64_t syncs, sync_us_total, syncs_inline;
    pthread_cond_t ckpt_wake;
    bool ckpt_kick; /* under mu: the writer asks for a checkpoint now */
    pb_ledger_stats stats;

    /* ---- writer-only ---- */
    pb_store_conn *wconn;
    /* the jobs applied in the open transaction (tx_open), in order, and their
     * weight as take_batch counts it */
    ledger_job *open_head, *open_tail;
    size_t open_weight;
    int ckpt_mark; /* WAL pages at which the checkpointer is asked next */
    int64_t next_seq;
    int64_t last_created_at; /* the clock the writer stamps with never goes back */
    uint8_t last_hash[32];
    /* account cache: open addressing on id, entries allocated separately (stable pointers) */
    cached_account **slots;
    size_t nslots, nused;
    cached_account **dirty;
    size_t ndirty, dirty_cap;
    undo_entry *undo;
    size_t nundo, undo_cap;
    hold_entry *holds;
    size_t nholds, nholds_slots;
    lazy_hold *lazy; /* ring: lazy[(lazy_head + i) % lazy_cap], i < nlazy */
    size_t lazy_head, nlazy, lazy_cap;
    int64_t pmark;         /* ledger_state.pending_seq as committed */
    int64_t pmark_pending; /* as written by the open batch */
    /* no hold in the ring expires before this (a lower bound, exact after a scan;
     * INT64_MAX: none), so the expiry sweep scans the ring only when one may be due */
    int64_t lazy_min_expiry;
    uint64_t *bloom;   /* filter over remembered rejections' keys (see engine.c) */
    int64_t *resolves; /* per leg of the chain being processed: the pending seq it resolves */
    size_t resolves_cap;
    /* balance write-back (engine.c): accounts whose row lags, oldest first */
    cached_account *uf_head, *uf_tail;
    int64_t mark;         /* ledger_state.balances_seq as committed */
    int64_t mark_pending; /* as written by the open batch */
    int64_t batch_first_seq;
    int64_t last_pass_us; /* the last write-back pass (monotonic) */
    int64_t next_expiry;  /* no open hold expires before this (writer's clock); 0: unknown */
    bool flush_all;       /* write every lagging row back in the next batch */
    bool reset_pending;   /* a failed batch's reload failed: no batch until it succeeds */
    bool claimed;         /* holds the store's writer claim (pb_store_writer_claim) */
    pb_ledger_live *live; /* what readers overlay on the rows (live.c) */
    /* damaged transfer rows met so far (damaged.c); kept across failed batches */
    damaged_row *damaged;
    size_t ndamaged, damaged_cap;
    size_t nskipped; /* of them, holds the expiry sweep skips */
    /* damaged account rows met so far (damaged.c): logged once each; forgotten
     * when the row reads well again, so a later damage is logged again */
    int64_t *damaged_accts;
    size_t ndamaged_accts, damaged_accts_cap;
    pb_ledger_ids ids;
};

/* cache.c — the writer's in-memory indexes (writer thread only). */
void pb_ledger_cache_clear(pb_ledger *l);
/* The cached account, loaded from the store on a miss; *out = NULL when it does not
 * exist; STORE_CORRUPT when its row is damaged (never cached, logged once: damaged.c). */
pb_err pb_ledger_cache_get(pb_ledger *l, int64_t id, cached_account **out);
void pb_ledger_holds_clear(pb_ledger *l);
/* Keeps an open hold; false when there is no room (then it is not kept: an
 * unflushed hold must go to the store at once). */
bool pb_ledger_holds_put(pb_ledger *l, const pb_store_transfer *t, bool flushed);
hold_entry *pb_ledger_holds_get(pb_ledger *l, const pb_id *id);
void pb_ledger_holds_del(pb_ledger *l, const pb_id *id);
/* Rebuilds the rejection filter from the store. */
pb_err pb_ledger_bloom_load(pb_ledger *l);
void pb_ledger_bloom_add(pb_ledger *l, const char *scope, const char *key);
/* false: the key was certainly never rejected; true: look it up. */
bool pb_ledger_bloom_maybe(const pb_ledger *l, const char *scope, const char *key);

/* engine.c — run inside the writer's open write transaction. */
/* The writer's clock (µs): the configured clock, never earlier than the last stamp. */
int64_t pb_ledger_now(pb_ledger *l);
/* Loads next_seq and last_hash from the store. */
pb_err pb_ledger_engine_load_head(pb_ledger *l);
/* Drops every cached account and reloads the head (after a failed batch). */
pb_err pb_ledger_engine_reset(pb_ledger *l);
void pb_ledger_engine_free(pb_ledger *l);
/* Processes one submission. PB_OK when every transfer got its own result;
 * INTERNAL when the store failed and the whole batch must be rolled back. */
pb_err pb_ledger_engine_transfers(pb_ledger *l, pb_transfer *t, size_t n, int64_t now);
pb_err pb_ledger_engine_account(pb_ledger *l, pb_ledger_account *a, int64_t now);
/* Expires up to `cap` holds whose timeout passed. A hold whose row is damaged
 * (cannot be read, or its void fails) is skipped: logged once, counted in
 * stats.expiry_skipped, its accounts' counters left as they are, and tried again
 * only every PB_LEDGER_DAMAGED_RETRY_US; the sweep goes on with the others.
 * INTERNAL only when the store itself failed. */
pb_err pb_ledger_engine_expire(pb_ledger *l, int64_t now, size_t cap);
/* engine.c's (and damaged.c's) pieces expire.c (the sweep) uses: one linked chain through the
 * engine (expiring: the ledger's own voids, never remembered under a key); the
 * damaged row met at seq, or NULL; a stats counter bumped under mu; an array grown
 * to hold `need` elements (0, or -1 out of memory). */
pb_err pb_ledger_engine_run_chain(pb_ledger *l, pb_transfer *t, size_t n, int64_t now,
                                  bool expiring);
damaged_row *pb_ledger_damaged_find(pb_ledger *l, int64_t seq);
void pb_ledger_count_stat(pb_ledger *l, uint64_t *counter);
int pb_ledger_engine_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* damaged.c: why a lookup answered CORRUPT (the store's message, or that a row
 * read whole has an id that does not name it); refuses leg x STORE_CORRUPT
 * (*result) because the transfer row seq (0: unknown; id names it when known)
 * is damaged, logging the row the first time it is met. */
const char *pb_ledger_damage_why(pb_ledger *l, const pb_store_transfer *p);
void pb_ledger_refuse_damaged(pb_ledger *l, const pb_transfer *x, int64_t seq, const pb_id *id,
                              const char *why, pb_err *result);
/* damaged.c: what makes an account row read from the store unusable for money
 * (NULL: nothing): its malformed column (store_ledger.h), or flags the ledger never
 * sets (an unknown bit, or both balance limits). */
const char *pb_ledger_account_damage(const pb_store_account *a);
/* The writer met account row a damaged (why: pb_ledger_account_damage's answer):
 * logged the first time; or read well again (forgotten). */
void pb_ledger_account_damaged(pb_ledger *l, const pb_store_account *a, const char *why);
void pb_ledger_account_sound(pb_ledger *l, int64_t id);
/* A post or void of a pending transfer. */
static inline bool pb_ledger_is_resolution(uint32_t flags)
{
    return flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING);
}
/* idempotency.c: what a key already answers. KEY_DAMAGED: what is stored under
 * the key cannot be read (t->result is STORE_CORRUPT, already logged). */
typedef enum { KEY_NEW, KEY_REPLAY, KEY_CONFLICT, KEY_DAMAGED } key_state;
/* Looks t's key up; on KEY_REPLAY t->result/record hold the stored outcome.
 * INTERNAL only when the store failed. */
pb_err pb_ledger_key_lookup(pb_ledger *l, pb_transfer *t, key_state *ks);
/* Remembers leg x's rejection `why` under its key (and in the rejection filter). */
pb_err pb_ledger_remember_rejection(pb_ledger *l, const pb_transfer *x, pb_err why, int64_t now);
/* writeback.c — at open and after a failed batch: applies the transfers above
 * the balance mark to the cached counters of the rows that lack them, queues
 * those accounts for write-back and publishes them to readers; then finds the
 * open holds above the pending mark that ledger_pending_open lacks and keeps
 * them as unflushed holds. */
pb_err pb_ledger_writeback_replay(pb_ledger *l);
/* A new open hold: kept in memory and written to ledger_pending_open only if it
 * is still open after balance_flush_ms (at once when eager or out of room). */
pb_err pb_ledger_hold_opened(pb_ledger *l, const pb_store_transfer *r);
/* A hold resolved (posted, voided, expired): its ledger_pending_open row is
 * deleted if it has one. */
pb_err pb_ledger_hold_resolved(pb_ledger *l, int64_t seq, const pb_id *pending_id);
/* The open holds not yet in ledger_pending_open that expire at or before `now`
 * (up to cap seqs into out; the ring is scanned only when one may be due), and a
 * lower bound of the earliest expiry among them (INT64_MAX: none). */
size_t pb_ledger_lazy_expired(pb_ledger *l, int64_t now, int64_t *out, size_t cap);
int64_t pb_ledger_lazy_next_expiry(pb_ledger *l);
/* At the end of a batch, before its commit: queues the accounts the batch changed
 * for write-back and writes back the rows that have lagged for balance_flush_ms
 * (all of them when l->flush_all), moving the balance mark. */
pb_err pb_ledger_engine_flush(pb_ledger *l);
/* After a commit: publishes the batch's counters to readers, forgets dirtiness,
 * bounds the cache. */
void pb_ledger_engine_committed(pb_ledger *l);

/* live.c — committed state not yet in the balance rows, for readers. */
pb_ledger_live *pb_ledger_live_new(void);
void pb_ledger_live_free(pb_ledger_live *v);
/* The writer, after a commit and before answering: the accounts' committed counters. */
int pb_ledger_live_publish(pb_ledger_live *v, cached_account *const *accts, size_t n);
/* The writer, once every row is written back: forget everything (bumps the generation). */
void pb_ledger_live_clear(pb_ledger_live *v);
uint64_t pb_ledger_live_generation(pb_ledger_live *v);
/* Overlays the published counters of a->id on *a; false when there are none.
 * *generation receives the generation the answer belongs to. */
bool pb_ledger_live_overlay(pb_ledger_live *v, pb_store_account *a, uint64_t *generation);
/* Applies a stored transfer to one of its two accounts (a->id), setting a->last_seq.
 * pending_amount: for a post or void, the amount the resolved pending held. */
void pb_ledger_apply_record(pb_store_account *a, const pb_store_transfer *t,
                            int64_t pending_amount);
/* For a post or void, the amount its pending held (read from the store); 0 otherwise. */
pb_err pb_ledger_record_pending_amount(pb_store_conn *c, const pb_ledger_ids *ids,
                                       const pb_store_transfer *t, int64_t *amount);
/* Brings a row read from the store (after `mark` was read) up to date with the
 * account's transfers above it. */
pb_err pb_ledger_replay_account(pb_store_conn *c, const pb_ledger_ids *ids, int64_t mark,
                                pb_store_account *a);

/* txid.c — transfer ids that carry their seq. */
void pb_ledger_txid_make(const uint8_t key[PB_LEDGER_ID_KEY_LEN], int64_t seq,
                         int64_t created_at_us, pb_id *out);
/* The seq an id names (deciphered); false when it is no id this scheme made. */
bool pb_ledger_txid_seq(const uint8_t key[PB_LEDGER_ID_KEY_LEN], const pb_id *id, int64_t *seq);
/* The transfer with this id: a primary-key read (a scan of the legacy range for
 * pre-0010 ids). NOT_FOUND when there is none; CORRUPT when the row the id names
 * is damaged (store_ledger.h), or holds an id that does not name its own seq
 * (then *out is that row). */
pb_store_rc pb_ledger_transfer_by_id(pb_store_conn *c, const pb_ledger_ids *ids, const pb_id *id,
                                     pb_store_transfer *out);
pb_err pb_ledger_ids_load(pb_store_conn *c, pb_ledger_ids *ids);

/* The handle a command gets (engine.c). */
struct pb_ledger_tx {
    pb_ledger *l;
    int64_t now;
};
/* Runs one command job. PB_OK, or INTERNAL when the batch must be rolled back. */
pb_err pb_ledger_engine_command(pb_ledger *l, ledger_job *j, int64_t now);

/* ledger.c */
/* The stateless checks of a submission (see pb_ledger_submit). */
pb_err pb_ledger_precheck(pb_transfer *t, size_t n, bool *needs_writer);

/* writer.c */
int pb_ledger_writer_start(pb_ledger *l);
void pb_ledger_writer_stop(pb_ledger *l);
/* true (and an error logged naming `call`) when this thread is l's writer or
 * notifier, where a call that waits for the writer would wait forever: the
 * blocking entry points then refuse with LEDGER_REENTRANT (see ledger.h). */
bool pb_ledger_reentrant(const pb_ledger *l, const char *call);
/* Queues a job and blocks until the writer has finished it; on a ledger thread
 * it queues nothing and sets j->status to LEDGER_REENTRANT. */
void pb_ledger_enqueue(pb_ledger *l, ledger_job *j);
/* In a caller woken from a job with relay set: passes the wake-up on to the callers
 * after it in its sync's group, and lets go of the group (writer.c, wake_group). */
void pb_ledger_job_relay(ledger_job *j);
/* pb_ledger_enqueue for n jobs: all queued in order, then waited for (on a
 * ledger thread: none queued, every status LEDGER_REENTRANT). */
void pb_ledger_enqueue_many(pb_ledger *l, ledger_job *j, size_t n);
/* Queues a heap-allocated job with a callback and returns at once. */
void pb_ledger_enqueue_async(pb_ledger *l, ledger_job *j);

/* ledger.c — stateless checks shared by submit and the engine. */
bool pb_ledger_error_is_remembered(pb_err e);

#endif
