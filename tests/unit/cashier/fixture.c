/* fixture.c — see fixture.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "core/time.h"
#include "store/store_identity.h"
#include "tenancy/tenancy.h"

cx C;

static void add_player(int i, const char *email)
{
    pb_store_player p;
    fx_player(C.f, C.brand_id, email, &p);
    snprintf(C.players[i], sizeof C.players[i], "%s", p.public_id);
    C.player_rows[i] = p.id;
    C.pl[i] = (pb_cashier_player){
        .brand_id = C.brand_id, .brand = "alpha", .player = C.players[i], .currency = "EUR"};
}

int cx_setup(void **state)
{
    fx_setup(state);
    memset(&C, 0, sizeof C);
    C.f = *state;
    char err[256];
    C.w = pb_wallet_open(C.f->ledger, C.f->store, err, sizeof err);
    assert_non_null(C.w);
    pb_cashier_config cfg = {.keys_dir = C.f->dir, .sandbox = true};
    C.k = pb_cashier_open(C.w, C.f->store, &cfg, err, sizeof err);
    assert_non_null(C.k);
    C.psp = pb_cashier_psp(C.k, "sandbox");
    assert_non_null(C.psp);
    char path[400];
    snprintf(path, sizeof path, "%s/" PB_PSP_SANDBOX_SECRET_FILE, C.f->dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(C.secret, sizeof C.secret, fp));
    fclose(fp);
    assert_int_equal(strlen(C.secret), 64);
    pb_brand_spec spec = {.code = "alpha",
                          .name = "Alpha",
                          .default_currency = "EUR",
                          .jurisdiction = "MT",
                          /* what migration 0034 gives a brand that had no threshold of its own */
                          .settings = "{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000}}"};
    pb_brand b;
    assert_int_equal(pb_store_begin(C.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(C.f->conn, &spec, 1, &b, NULL), PB_OK);
    C.brand_id = b.id;
    add_player(0, "p0@example.com");
    add_player(1, "p1@example.com");
    assert_int_equal(pb_store_commit(C.f->conn), PB_STORE_OK);
    /* the finance members the tests approve as: an approval counts only while its
     * member is active, may approve and has the brand in scope (approvals.c) */
    (void)cx_finance_member("fin-1");
    (void)cx_finance_member("fin-2");
    (void)cx_finance_member("fin-agent");
    assert_int_equal(pb_wallet_system_account(C.w, C.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &C.house),
                     PB_OK);
    return 0;
}

int cx_teardown(void **state)
{
    assert_int_equal(fx_verify(C.f), 0);
    pb_cashier_close(C.k);
    pb_wallet_close(C.w);
    char path[400];
    snprintf(path, sizeof path, "%s/" PB_PSP_SANDBOX_SECRET_FILE, C.f->dir);
    unlink(path);
    /* the sandbox's books (its payouts; its deposits collected and payouts returned) */
    snprintf(path, sizeof path, "%s/" PB_PSP_SANDBOX_PAYOUTS_FILE, C.f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/" PB_PSP_SANDBOX_SETTLEMENTS_FILE, C.f->dir);
    unlink(path);
    return fx_teardown(state);
}

void cx_settings(const char *json)
{
    pb_brand_update u = {.settings = json};
    assert_int_equal(pb_store_begin(C.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_update(C.f->conn, C.brand_id, &u, 1, NULL, NULL), PB_OK);
    assert_int_equal(pb_store_commit(C.f->conn), PB_STORE_OK);
}

void cx_status(int i, const char *status)
{
    assert_int_equal(pb_store_begin(C.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(C.f->conn, C.player_rows[i], status, "test", 2),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(C.f->conn), PB_STORE_OK);
}

void cx_fund(int i, int64_t cash, int64_t bonus)
{
    pb_wallet_accounts acc;
    assert_int_equal(pb_wallet_player_accounts(C.w, C.f->conn, "alpha", C.players[i], "EUR", &acc),
                     PB_OK);
    char key[32];
    if (cash) {
        snprintf(key, sizeof key, "fund-c-%d", C.n++);
        pb_transfer t = fx_transfer(key, C.house, acc.cash, cash, PB_CODE_ADJUSTMENT);
        assert_int_equal(fx_submit1(C.f, &t), PB_OK);
    }
    if (bonus) {
        snprintf(key, sizeof key, "fund-b-%d", C.n++);
        pb_transfer t = fx_transfer(key, C.house, acc.bonus, bonus, PB_CODE_BONUS_GRANT);
        assert_int_equal(fx_submit1(C.f, &t), PB_OK);
    }
}

pb_wallet_balance cx_balance(int i)
{
    pb_wallet_balance b;
    assert_int_equal(pb_wallet_balance_get(C.f->conn, "alpha", C.players[i], "EUR", &b), PB_OK);
    return b;
}

const char *cx_key(char *buf, size_t cap)
{
    snprintf(buf, cap, "k-%d", C.n++);
    return buf;
}

static const char *one_header(void *ctx, const char *name)
{
    return strcmp(name, PB_PSP_SANDBOX_HEADER) == 0 ? ctx : NULL;
}

pb_err cx_event(const char *event_id, const char *type, const char *ref, int64_t amount,
                const char *currency, int64_t t, pb_cashier_webhook_result *out)
{
    char eid[32];
    if (!event_id) {
        snprintf(eid, sizeof eid, "evt-%d", C.n++);
        event_id = eid;
    }
    if (!t)
        t = pb_time_now_us() / 1000000;
    char *body = pb_psp_sandbox_event_body(event_id, type, ref, amount, currency, t);
    assert_non_null(body);
    char sig[128];
    pb_psp_sandbox_sign(C.secret, body, strlen(body), t, sig, sizeof sig);
    pb_err e = pb_cashier_webhook(C.k, C.f->conn, "sandbox", body, strlen(body), one_header, sig,
                                  out);
    free(body);
    return e;
}

pb_store_payment cx_deposit(int i, int64_t amount)
{
    char key[32], url[PB_CASHIER_URL_MAX];
    pb_cashier_actor a = {.kind = "player", .id = C.players[i]};
    pb_store_payment p;
    bool replayed = true;
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[i], NULL, amount,
                                               cx_key(key, sizeof key), &a, &p, url, &replayed),
                     PB_OK);
    assert_false(replayed);
    assert_string_equal(p.status, "pending");
    return p;
}

pb_err cx_withdraw(int i, int64_t amount, const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    char key[32];
    pb_cashier_actor me = {.kind = "player", .id = C.players[i]};
    bool replayed;
    return pb_cashier_withdrawal_request(C.k, C.f->conn, &C.pl[i], amount, cx_key(key, sizeof key),
                                         a ? a : &me, out, &replayed);
}

pb_cashier_actor cx_staff(const char *id)
{
    return (pb_cashier_actor){.kind = "staff", .id = id, .role = "finance"};
}

void cx_player_principal(int i, const char *sid, pb_principal *p, int64_t *session)
{
    pb_store_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.public_id, sizeof s.public_id, "%s", sid);
    snprintf(s.subject_kind, sizeof s.subject_kind, "player");
    snprintf(s.scope, sizeof s.scope, "full");
    s.subject_id = C.player_rows[i];
    s.created_at = s.last_seen_at = pb_time_now_us();
    s.idle_s = 1800;
    s.expires_at = s.created_at + 3600 * 1000000LL;
    assert_int_equal(pb_store_session_insert(C.f->conn, &s), PB_STORE_OK);
    memset(p, 0, sizeof *p);
    p->kind = PB_SUBJECT_PLAYER;
    p->subject_id = C.player_rows[i];
    snprintf(p->subject_public_id, sizeof p->subject_public_id, "%s", C.players[i]);
    p->session_id = s.id;
    *session = s.id;
}

int64_t cx_finance_member(const char *id)
{
    pb_store_staff st;
    memset(&st, 0, sizeof st);
    snprintf(st.public_id, sizeof st.public_id, "%s", id);
    snprintf(st.email, sizeof st.email, "%s@staff.example", id);
    snprintf(st.password_hash, sizeof st.password_hash, "x");
    snprintf(st.role, sizeof st.role, "finance");
    snprintf(st.status, sizeof st.status, "active");
    st.created_at = st.updated_at = pb_time_now_us();
    assert_int_equal(pb_store_begin(C.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_staff_insert(C.f->conn, &st), PB_STORE_OK);
    assert_int_equal(pb_store_staff_brands_set(C.f->conn, st.id, &C.brand_id, 1), PB_STORE_OK);
    assert_int_equal(pb_store_commit(C.f->conn), PB_STORE_OK);
    return st.id;
}

pb_store_withdrawal cx_withdrawal(const char *id)
{
    pb_store_withdrawal w;
    assert_int_equal(pb_cashier_withdrawal_get(C.f->conn, NULL, NULL, id, &w), PB_OK);
    return w;
}

int64_t cx_transfers(void)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(C.f->conn, NULL, NULL, &s), PB_OK);
    return s.transfers;
}
