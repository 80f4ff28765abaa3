/*
 * test_audit_concurrency.c — appenders on their own connections at once.
 *
 * Four threads each append 50 entries, each in its own connection and write
 * transaction, retrying the whole transaction when the store is busy, while a
 * fifth signs checkpoints as fast as it can. Afterwards the seqs must be
 * contiguous (1..200), every thread's entries all present, and verify clean
 * with the checkpoints accepted. A second case has threads create the signing
 * key at the same moment and expects them all to end up with the same key.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_fixture.h"
#include "core/time.h"

#define THREADS 4
#define PER_THREAD 50

typedef struct worker {
    afx *f;
    int index;
    int retries;
    int failures;
    atomic_bool *stop; /* for the checkpointer */
    int checkpoints;
} worker;

/* Appends PER_THREAD entries, one write transaction each, retrying when busy. */
static void *appender(void *arg)
{
    worker *w = arg;
    char err[256], actor[32], target[32];
    pb_store_conn *c = pb_store_connect(w->f->store, err, sizeof err);
    if (!c) {
        w->failures++;
        return NULL;
    }
    snprintf(actor, sizeof actor, "staff-%d", w->index);
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(target, sizeof target, "player-%d-%d", w->index, i);
        pb_audit_entry e = {.actor_kind = "staff",
                            .actor_id = actor,
                            .role = "support",
                            .brand = "demo",
                            .action = "player.block",
                            .target_kind = "player",
                            .target_id = target,
                            .after = "{\"status\":\"blocked\"}",
                            .reason = "concurrency"};
        for (int attempt = 0;; attempt++) {
            if (attempt == 1000) {
                w->failures++;
                break;
            }
            pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
            if (rc == PB_STORE_BUSY) {
                w->retries++;
                continue;
            }
            if (rc != PB_STORE_OK) {
                w->failures++;
                break;
            }
            pb_err e2 = pb_audit_append(c, &e, pb_time_now_us());
            if (e2 == PB_OK && pb_store_commit(c) == PB_STORE_OK)
                break;
            pb_store_rollback(c);
            if (e2 != PB_OK && e2 != PB_ERR_STORE_UNAVAILABLE) {
                w->failures++;
                break;
            }
            w->retries++;
        }
    }
    pb_store_disconnect(c);
    return NULL;
}

/* Signs checkpoints until told to stop. */
static void *checkpointer(void *arg)
{
    worker *w = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(w->f->store, err, sizeof err);
    if (!c) {
        w->failures++;
        return NULL;
    }
    while (!atomic_load(w->stop)) {
        bool written = false;
        pb_err e = pb_audit_checkpoint(c, w->f->key, pb_time_now_us(), NULL, &written);
        if (e == PB_OK)
            w->checkpoints += written;
        else if (e != PB_ERR_STORE_UNAVAILABLE)
            w->failures++;
        usleep(2000); /* leave the write lock to the appenders between attempts */
    }
    pb_store_disconnect(c);
    return NULL;
}

typedef struct tally {
    int64_t expect;
    int per_actor[THREADS];
    bool contiguous;
} tally;

/* Checks seq continuity and counts each appender's entries. */
static int count_row(void *p, const pb_audit_record *e)
{
    tally *t = p;
    if (e->seq != t->expect)
        t->contiguous = false;
    t->expect = e->seq + 1;
    int who = -1;
    if (sscanf(e->actor_id, "staff-%d", &who) == 1 && who >= 0 && who < THREADS)
        t->per_actor[who]++;
    return 0;
}

static void test_concurrent_appenders(void **state)
{
    afx *f = *state;
    pthread_t th[THREADS + 1];
    worker w[THREADS + 1];
    atomic_bool stop = false;
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.f = f, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, appender, &w[i]), 0);
    }
    w[THREADS] = (worker){.f = f, .stop = &stop};
    assert_int_equal(pthread_create(&th[THREADS], NULL, checkpointer, &w[THREADS]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop, true);
    pthread_join(th[THREADS], NULL);
    for (int i = 0; i <= THREADS; i++)
        assert_int_equal(w[i].failures, 0);
    bool written = false; /* the checkpointer may have signed the final head already */
    assert_int_equal(pb_audit_checkpoint(f->conn, f->key, pb_time_now_us(), NULL, &written), PB_OK);
    print_message("# checkpoints during the run: %d, retries: %d %d %d %d\n",
                  w[THREADS].checkpoints, w[0].retries, w[1].retries, w[2].retries, w[3].retries);

    tally t = {.expect = 1, .contiguous = true};
    assert_int_equal(pb_store_audit_entry_scan(f->conn, 0, count_row, &t), PB_STORE_OK);
    assert_true(t.contiguous);
    assert_int_equal(t.expect - 1, THREADS * PER_THREAD);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(t.per_actor[i], PER_THREAD);

    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.entries, THREADS * PER_THREAD);
    assert_int_equal(sum.signed_upto, THREADS * PER_THREAD);
    assert_int_equal(sum.checkpoints, w[THREADS].checkpoints + (written ? 1 : 0));
}

typedef struct key_race {
    const char *dir;
    pb_audit_pubkey pk;
    bool created;
    pb_err e;
} key_race;

/* One racer: load or create the key, keep its public half. */
static void *create_key(void *arg)
{
    key_race *k = arg;
    char err[256];
    pb_audit_key *key = NULL;
    k->e = pb_audit_key_load_or_create(k->dir, &key, &k->created, err, sizeof err);
    if (key) {
        k->pk = *pb_audit_key_public(key);
        pb_audit_key_free(key);
    }
    return NULL;
}

static void test_concurrent_key_creation_agrees(void **state)
{
    afx *f = *state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/race-keys", f->dir);
    pthread_t th[8];
    key_race k[8];
    for (int i = 0; i < 8; i++) {
        k[i] = (key_race){.dir = dir};
        assert_int_equal(pthread_create(&th[i], NULL, create_key, &k[i]), 0);
    }
    int created = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(k[i].e, PB_OK);
        created += k[i].created;
        assert_memory_equal(k[i].pk.b, k[0].pk.b, 32);
    }
    assert_int_equal(created, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_appenders, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_key_creation_agrees, afx_setup,
                                        afx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
