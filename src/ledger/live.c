/*
 * live.c — the ledger's state that is committed but not yet in the balance rows.
 *
 * The writer writes an account's ledger_balance row back lazily (engine.c), so
 * for a while after a commit the row lags behind the transfers. Two ways bring a
 * row read from the store up to date:
 *  - in the writer's own process, the writer publishes here, after each commit
 *    and before anyone is answered, the counters of every account the batch
 *    changed; readers on any connection overlay them (pb_ledger_live_overlay).
 *    Entries stay until the writer drops its cache, which it does only when every
 *    row has been written back; each drop bumps a generation so that a reader
 *    that missed an entry can tell the row it read may predate the write-back;
 *  - in another process (the CLI next to a running server), the reader replays
 *    the account's transfers above the row from the store
 *    (pb_ledger_replay_account), the same way the writer recovers after a crash.
 * Either way the answer is exact as of a commit.
 * Lifetime: readers take the table from the store and give it back around each
 * read (query.c); the ledger's close unpublishes it and waits for those readers
 * (pb_store_set_ledger_live) before freeing it, so a reader on any thread
 * (an HTTP worker draining, an export or event thread, metrics) never touches a
 * freed table, whatever order the server stops things in.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_internal.h"

typedef struct live_entry {
    int64_t id; /* 0: empty slot */
    int64_t c[4];
    int64_t last_seq;
} live_entry;

struct pb_ledger_live {
    pthread_mutex_t mu;
    live_entry *slots;
    size_t nslots, nused;
    uint64_t generation;
};

static size_t slot_of(int64_t id, size_t n)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (n - 1);
}

pb_ledger_live *pb_ledger_live_new(void)
{
    pb_ledger_live *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    pthread_mutex_init(&v->mu, NULL);
    return v;
}

void pb_ledger_live_free(pb_ledger_live *v)
{
    if (!v)
        return;
    pthread_mutex_destroy(&v->mu);
    free(v->slots);
    free(v);
}

static int grow(pb_ledger_live *v)
{
    size_t n = v->nslots ? v->nslots * 2 : 4096;
    live_entry *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < v->nslots; i++) {
        if (!v->slots[i].id)
            continue;
        size_t j = slot_of(v->slots[i].id, n);
        while (s[j].id)
            j = (j + 1) & (n - 1);
        s[j] = v->slots[i];
    }
    free(v->slots);
    v->slots = s;
    v->nslots = n;
    return 0;
}

int pb_ledger_live_publish(pb_ledger_live *v, cached_account *const *accts, size_t n)
{
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < n; i++) {
        const pb_store_account *a = &accts[i]->a;
        if ((v->nused + 1) * 2 > v->nslots && grow(v) != 0) {
            pthread_mutex_unlock(&v->mu);
            return -1;
        }
        size_t j = slot_of(a->id, v->nslots);
        while (v->slots[j].id && v->slots[j].id != a->id)
            j = (j + 1) & (v->nslots - 1);
        live_entry *e = &v->slots[j];
        if (!e->id) {
            e->id = a->id;
            v->nused++;
        }
        e->c[0] = a->debits_pending;
        e->c[1] = a->debits_posted;
        e->c[2] = a->credits_pending;
        e->c[3] = a->credits_posted;
        e->last_seq = a->last_seq;
    }
    pthread_mutex_unlock(&v->mu);
    return 0;
}

void pb_ledger_live_clear(pb_ledger_live *v)
{
    pthread_mutex_lock(&v->mu);
    if (v->slots)
        memset(v->slots, 0, v->nslots * sizeof *v->slots);
    v->nused = 0;
    v->generation++;
    pthread_mutex_unlock(&v->mu);
}

uint64_t pb_ledger_live_generation(pb_ledger_live *v)
{
    pthread_mutex_lock(&v->mu);
    uint64_t g = v->generation;
    pthread_mutex_unlock(&v->mu);
    return g;
}

bool pb_ledger_live_overlay(pb_ledger_live *v, pb_store_account *a, uint64_t *generation)
{
    bool hit = false;
    pthread_mutex_lock(&v->mu);
    if (v->nslots) {
        for (size_t j = slot_of(a->id, v->nslots); v->slots[j].id; j = (j + 1) & (v->nslots - 1)) {
            if (v->slots[j].id != a->id)
                continue;
            const live_entry *e = &v->slots[j];
            a->debits_pending = e->c[0];
            a->debits_posted = e->c[1];
            a->credits_pending = e->c[2];
            a->credits_posted = e->c[3];
            a->last_seq = e->last_seq;
            hit = true;
            break;
        }
    }
    *generation = v->generation;
    pthread_mutex_unlock(&v->mu);
    return hit;
}

/* ---------------------------------------------------------------- replaying the log */

void pb_ledger_apply_record(pb_store_account *a, const pb_store_transfer *t, int64_t pending_amount)
{
    bool debit = t->debit_account_id == a->id;
    int64_t *pending = debit ? &a->debits_pending : &a->credits_pending;
    int64_t *posted = debit ? &a->debits_posted : &a->credits_posted;
    if (t->flags & PB_TRANSFER_PENDING) {
        *pending += t->amount;
    } else if (t->flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING)) {
        *pending -= pending_amount;
        if (t->flags & PB_TRANSFER_POST_PENDING)
            *posted += t->amount;
    } else {
        *posted += t->amount;
    }
    a->last_seq = t->seq;
}

pb_err pb_ledger_record_pending_amount(pb_store_conn *c, const pb_ledger_ids *ids,
                                       const pb_store_transfer *t, int64_t *amount)
{
    *amount = 0;
    if (!(t->flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING)))
        return PB_OK;
    pb_store_transfer p;
    if (!t->has_pending_id || pb_ledger_transfer_by_id(c, ids, &t->pending_id, &p) != PB_STORE_OK)
        return PB_ERR_INTERNAL; /* a resolution without its pending: the log is damaged */
    *amount = p.amount;
    return PB_OK;
}

typedef struct replay_ctx {
    pb_store_conn *c;
    const pb_ledger_ids *ids;
    pb_store_account *a;
    pb_err e;
} replay_ctx;

static int replay_one(void *p, const pb_store_transfer *t)
{
    replay_ctx *x = p;
    int64_t pending_amount;
    if (t->malformed) { /* damaged: the counters cannot be brought up to date */
        x->e = PB_ERR_STORE_CORRUPT;
        return 1;
    }
    if ((x->e = pb_ledger_record_pending_amount(x->c, x->ids, t, &pending_amount)) != PB_OK)
        return 1;
    pb_ledger_apply_record(x->a, t, pending_amount);
    return 0;
}

pb_err pb_ledger_replay_account(pb_store_conn *c, const pb_ledger_ids *ids, int64_t mark,
                                pb_store_account *a)
{
    replay_ctx x = {c, ids, a, PB_OK};
    int64_t after = a->last_seq > mark ? a->last_seq : mark;
    pb_store_rc rc = pb_store_transfer_scan_account(c, after, a->id, replay_one, &x);
    if (rc != PB_STORE_OK)
        return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    return x.e;
}
