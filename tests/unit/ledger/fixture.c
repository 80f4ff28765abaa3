/* fixture.c — see fixture.h. Each test gets its own temporary directory. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t fx_clock(void *ctx) { return ((fx *)ctx)->clock_us; }

static void open_ledger(fx *f)
{
    char err[256];
    pb_ledger_config cfg = {.now_us = fx_clock,
                            .now_ctx = f,
                            .expiry_interval_ms = 20,
                            .balance_flush_ms = f->balance_flush_ms,
                            .checkpoint_ms = f->checkpoint_ms,
                            .wal_restart_frames = f->wal_restart_frames,
                            .idle_sync_in_notifier = f->idle_sync_in_notifier};
    f->ledger = pb_ledger_open(f->store, &cfg, err, sizeof err);
    if (!f->ledger)
        fail_msg("ledger open: %s", err);
}

int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbtest.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    f->clock_us = 1795000000000000; /* 2026-11-18 */
    open_ledger(f);
    *state = f;
    return 0;
}

int fx_teardown(void **state)
{
    fx *f = *state;
    pb_ledger_close(f->ledger);
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

void fx_restart(fx *f)
{
    pb_ledger_close(f->ledger);
    open_ledger(f);
}

void fx_open_store(fx *f, const char *vfs)
{
    char url[400], err[256];
    if (vfs)
        snprintf(url, sizeof url, "sqlite:%s?vfs=%s", f->path, vfs);
    else
        snprintf(url, sizeof url, "%s", f->path);
    f->store = pb_store_open(url, err, sizeof err);
    if (!f->store)
        fail_msg("store open: %s", err);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
}

int64_t fx_crash(fx *f, const char *vfs)
{
    char dir[256], path[300], from[320], to[340];
    snprintf(dir, sizeof dir, "/tmp/pbcrash.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    fx_copy_file(f->path, path, false);
    snprintf(from, sizeof from, "%s-wal", f->path);
    snprintf(to, sizeof to, "%s-wal", path);
    fx_copy_file(from, to, true);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    fx_remove_db(f->dir, f->path);
    memcpy(f->dir, dir, sizeof dir);
    memcpy(f->path, path, sizeof path);
    fx_open_store(f, vfs);
    pb_ledger_verify_summary v;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &v), PB_OK);
    assert_int_equal(v.violations, 0);
    open_ledger(f);
    return v.lagging_rows;
}

void fx_player(fx *f, int64_t brand_id, const char *email, pb_store_player *out)
{
    pb_store_player p;
    memset(&p, 0, sizeof p);
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, p.public_id);
    p.brand_id = brand_id;
    snprintf(p.currency, sizeof p.currency, "EUR");
    snprintf(p.password_hash, sizeof p.password_hash, "x");
    snprintf(p.status, sizeof p.status, "active");
    snprintf(p.email, sizeof p.email, "%s", email);
    snprintf(p.country, sizeof p.country, "MT");
    snprintf(p.date_of_birth, sizeof p.date_of_birth, "1990-01-01");
    p.created_at = p.updated_at = 1;
    assert_int_equal(pb_store_player_insert(f->conn, &p), PB_STORE_OK);
    *out = p;
}

int64_t fx_account_cur(fx *f, const char *owner, const char *kind, uint32_t flags,
                       const char *currency)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "test");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.currency, sizeof a.currency, "%s", currency);
    a.flags = flags;
    assert_int_equal(pb_ledger_account_create(f->ledger, &a), PB_OK);
    assert_true(a.id > 0);
    return a.id;
}

int64_t fx_account(fx *f, const char *owner, const char *kind, uint32_t flags)
{
    return fx_account_cur(f, owner, kind, flags, "EUR");
}

pb_transfer fx_transfer(const char *key, int64_t debit, int64_t credit, int64_t amount,
                        uint32_t code)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "test");
    snprintf(t.key, sizeof t.key, "%s", key);
    t.debit_account_id = debit;
    t.credit_account_id = credit;
    t.amount = amount;
    t.code = code;
    snprintf(t.currency, sizeof t.currency, "EUR");
    return t;
}

pb_transfer fx_resolve(const char *key, const pb_id *pending, uint32_t flag)
{
    pb_transfer t = fx_transfer(key, 0, 0, 0, 0);
    t.currency[0] = 0;
    t.flags = flag;
    t.pending_id = *pending;
    return t;
}

fx_book fx_book_build(fx *f)
{
    fx_book b;
    memset(&b, 0, sizeof b);
    b.house = fx_account(f, "house", "house_revenue", 0);
    b.psp = fx_account(f, "psp", "psp_clearing", 0);
    b.alice = fx_account(f, "player:alice", "player_cash",
                         PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    b.bob = fx_account(f, "player:bob", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer t[4] = {
        fx_transfer("dep:alice", b.psp, b.alice, 10000, PB_CODE_DEPOSIT),
        fx_transfer("dep:bob", b.psp, b.bob, 5000, PB_CODE_DEPOSIT),
        fx_transfer("bet:alice", b.alice, b.house, 1000, PB_CODE_BET),
        fx_transfer("bet:bob", b.bob, b.house, 500, PB_CODE_BET),
    };
    t[2].flags = t[3].flags = PB_TRANSFER_PENDING;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(fx_submit1(f, &t[i]), PB_OK);
        assert_int_equal(t[i].record.seq, i + 1);
    }
    b.hold3 = t[2].record.id;
    pb_transfer rest[4] = {
        fx_resolve("post:alice", &t[2].record.id, PB_TRANSFER_POST_PENDING),
        fx_resolve("void:bob", &t[3].record.id, PB_TRANSFER_VOID_PENDING),
        fx_transfer("win:alice", b.house, b.alice, 2000, PB_CODE_WIN),
        fx_transfer("bet:alice:2", b.alice, b.house, 300, PB_CODE_BET),
    };
    rest[3].flags = PB_TRANSFER_PENDING;
    rest[3].timeout_s = 3600;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(fx_submit1(f, &rest[i]), PB_OK);
        assert_int_equal(rest[i].record.seq, i + 5);
    }
    b.hold8 = rest[3].record.id;
    return b;
}

pb_err fx_submit1(fx *f, pb_transfer *t)
{
    assert_int_equal(pb_ledger_submit(f->ledger, t, 1), PB_OK);
    return t->result;
}

pb_ledger_account fx_get(fx *f, int64_t id)
{
    pb_ledger_account a;
    assert_int_equal(pb_ledger_account_get(f->conn, id, &a), PB_OK);
    return a;
}

int64_t fx_verify(fx *f)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &s), PB_OK);
    return s.violations;
}

void fx_sync(fx *f)
{
    pb_ledger_stats a, b;
    pb_ledger_stats_get(f->ledger, &a);
    for (int i = 0; i < 500; i++) {
        usleep(10000);
        pb_ledger_stats_get(f->ledger, &b);
        if (b.batches > a.batches + 1)
            return;
    }
    fail_msg("the ledger writer did not run a batch within 5 s");
}

void fx_copy_file(const char *from, const char *to, bool optional)
{
    FILE *in = fopen(from, "rb");
    if (!in && optional)
        return;
    assert_non_null(in);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

void fx_remove_db(const char *dir, const char *path)
{
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

void fx_sql(fx *f, const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    if (pb_store_exec_raw(f->conn, q) != PB_STORE_OK)
        fail_msg("%s: %s", q, pb_store_errmsg(f->conn));
}

void fx_collect(void *ctx, const char *kind, const char *message)
{
    fx_seen *s = ctx;
    if (s->n >= FX_SEEN_MAX)
        return;
    snprintf(s->kind[s->n], sizeof s->kind[0], "%s", kind);
    snprintf(s->msg[s->n], sizeof s->msg[0], "%s", message);
    s->n++;
}

static bool names(const char *msg, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = strstr(msg, needle); p; p = strstr(p + 1, needle))
        if (p[n] < '0' || p[n] > '9')
            return true;
    return false;
}

bool fx_seen_has(const fx_seen *s, const char *kind, const char *needle)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->kind[i], kind) == 0 && (!needle || names(s->msg[i], needle)))
            return true;
    return false;
}

void fx_assert_seen(const fx_seen *s, const char *kind, const char *needle)
{
    if (!fx_seen_has(s, kind, needle))
        fail_msg("verify reported no %s violation naming \"%s\" (%d violations)", kind,
                 needle ? needle : "", s->n);
}
