/*
 * ops.c — the operations endpoints, all public:
 *
 *   GET /healthz       the process is up and serving: 200 {"status":"ok"}
 *   GET /readyz        ready for traffic: the database answers and its schema
 *                      is the one this binary expects, 200 {"status":"ready",
 *                      "schema_version":N}; else 503 STORE_UNAVAILABLE
 *   GET /metrics       Prometheus text 0.0.4 (with PITBOSS_METRICS_TOKEN set, only
 *                      to "Authorization: Bearer <token>": else 401
 *                      UNAUTHENTICATED): the HTTP server's counters and
 *                      histograms, then the ledger writer's counters, then the
 *                      events' (delivered, stream clients, dropped, outbox lag),
 *                      then the other workers' (backups, payouts, games, anchors,
 *                      the 4-eyes requests' expiry sweep)
 *   GET /openapi.yaml  the API description compiled into the binary
 *   GET /docs          an HTML index of the route table, rendered here (no
 *                      JavaScript, nothing fetched from elsewhere)
 */
#include <ctype.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "cashier/cashier.h"
#include "core/time.h"
#include "events/events.h"
#include "events/jetstream.h"
#include "games/play.h"

void pb_api_healthz(pb_http_request *req, void *app)
{
    (void)app;
    pb_http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void pb_api_readyz(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error_msg(req, PB_ERR_STORE_UNAVAILABLE, NULL,
                                "no database connection can be opened");
        return;
    }
    int current = 0, latest = 0;
    if (pb_store_schema_version(c, &current, &latest) != PB_STORE_OK) {
        pb_http_reply_error_msg(req, PB_ERR_STORE_UNAVAILABLE, NULL,
                                "the database does not answer");
        return;
    }
    if (current != latest) {
        char msg[128];
        snprintf(msg, sizeof msg, "schema version %d, this binary expects %d", current, latest);
        pb_http_reply_error_msg(req, PB_ERR_STORE_UNAVAILABLE, NULL, msg);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:i}", "status", "ready", "schema_version", current));
}

void pb_api_ledger_metrics(pb_ledger *ledger, pb_http_buf *out)
{
    pb_ledger_stats st = {0};
    if (ledger)
        pb_ledger_stats_get(ledger, &st);
    pb_http_buf_printf(
        out,
        "# HELP pitboss_ledger_batches_total Batches of queued submissions applied by the ledger "
        "writer.\n"
        "# TYPE pitboss_ledger_batches_total counter\n"
        "pitboss_ledger_batches_total %llu\n"
        "# HELP pitboss_ledger_commits_total Transactions the ledger writer committed: the batches "
        "applied while a sync ran are committed together.\n"
        "# TYPE pitboss_ledger_commits_total counter\n"
        "pitboss_ledger_commits_total %llu\n"
        "# HELP pitboss_ledger_transfers_total Transfer requests processed by the writer (any "
        "result); divided by batches: the mean batch size.\n"
        "# TYPE pitboss_ledger_transfers_total counter\n"
        "pitboss_ledger_transfers_total %llu\n"
        "# HELP pitboss_ledger_batch_size_max The largest batch committed so far.\n"
        "# TYPE pitboss_ledger_batch_size_max gauge\n"
        "pitboss_ledger_batch_size_max %llu\n"
        "# HELP pitboss_ledger_commit_seconds_total Time spent committing batches; divided by "
        "batches: the mean commit latency.\n"
        "# TYPE pitboss_ledger_commit_seconds_total counter\n"
        "pitboss_ledger_commit_seconds_total %llu.%06llu\n"
        "# HELP pitboss_ledger_writer_cpu_seconds_total CPU time of the writer thread in "
        "batches; divided by transfers: the writer's cost of one transfer.\n"
        "# TYPE pitboss_ledger_writer_cpu_seconds_total counter\n"
        "pitboss_ledger_writer_cpu_seconds_total %llu.%06llu\n"
        "# HELP pitboss_ledger_syncs_total Syncs that made committed batches durable before "
        "their callers were answered; transfers divided by syncs: how many one sync served.\n"
        "# TYPE pitboss_ledger_syncs_total counter\n"
        "pitboss_ledger_syncs_total %llu\n"
        "# HELP pitboss_ledger_sync_seconds_total Time spent in those syncs; divided by syncs: "
        "the mean time the disk took.\n"
        "# TYPE pitboss_ledger_sync_seconds_total counter\n"
        "pitboss_ledger_sync_seconds_total %llu.%06llu\n"
        "# HELP pitboss_ledger_syncs_inline_total Of those syncs, the ones the writer made itself "
        "for a batch committed while nothing else waited.\n"
        "# TYPE pitboss_ledger_syncs_inline_total counter\n"
        "pitboss_ledger_syncs_inline_total %llu\n"
        "# HELP pitboss_ledger_corrupt_refusals_total Transfers refused STORE_CORRUPT because a "
        "ledger row they need is damaged: a transfer or a hold (logged as ledger.damaged_row) or an "
        "account (ledger.damaged_account); run ledger verify.\n"
        "# TYPE pitboss_ledger_corrupt_refusals_total counter\n"
        "pitboss_ledger_corrupt_refusals_total %llu\n"
        "# HELP pitboss_ledger_expiry_skipped_total Holds due to expire that the sweep skipped "
        "because their row is damaged (logged as ledger.expiry_skipped; each hold once).\n"
        "# TYPE pitboss_ledger_expiry_skipped_total counter\n"
        "pitboss_ledger_expiry_skipped_total %llu\n",
        (unsigned long long)st.batches, (unsigned long long)st.commits,
        (unsigned long long)st.transfers, (unsigned long long)st.max_batch_seen,
        (unsigned long long)(st.commit_us_total / 1000000),
        (unsigned long long)(st.commit_us_total % 1000000),
        (unsigned long long)(st.cpu_us_total / 1000000),
        (unsigned long long)(st.cpu_us_total % 1000000), (unsigned long long)st.syncs,
        (unsigned long long)(st.sync_us_total / 1000000),
        (unsigned long long)(st.sync_us_total % 1000000), (unsigned long long)st.syncs_inline,
        (unsigned long long)st.corrupt_refusals, (unsigned long long)st.expiry_skipped);
}

/* @backoffice: the events' figures — delivered, stream clients connected, clients
 * dropped as slow, the dispatcher's own syncs (dispatcher.c), and the outbox lag (the newest id appended − the newest id
 * dispatched), read from the outbox on the request's connection. */
static void events_metrics(pb_http_request *req, pb_events *ev, pb_http_buf *out)
{
    pb_events_stats st = {0};
    if (!ev)
        return;
    pb_events_stats_get(ev, &st);
    int64_t first = 0, last = 0;
    pb_store_conn *c = pb_http_conn(req);
    if (!c || pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK)
        last = st.last_id;
    else {
        if (pb_store_event_bounds(c, &first, &last) != PB_STORE_OK)
            last = st.last_id;
        pb_store_rollback(c);
    }
    long long lag = last > st.last_id ? (long long)(last - st.last_id) : 0;
    pb_http_buf_printf(
        out,
        "# HELP pitboss_events_delivered_total Events read from the outbox and dispatched.\n"
        "# TYPE pitboss_events_delivered_total counter\n"
        "pitboss_events_delivered_total %llu\n"
        "# HELP pitboss_events_stream_clients Staff event stream (SSE) clients connected.\n"
        "# TYPE pitboss_events_stream_clients gauge\n"
        "pitboss_events_stream_clients %u\n"
        "# HELP pitboss_events_stream_dropped_total Stream clients dropped for not keeping up.\n"
        "# TYPE pitboss_events_stream_dropped_total counter\n"
        "pitboss_events_stream_dropped_total %llu\n"
        "# HELP pitboss_events_outbox_lag Events appended to the outbox and not dispatched yet "
        "(the newest id appended - the newest id dispatched).\n"
        "# TYPE pitboss_events_outbox_lag gauge\n"
        "pitboss_events_outbox_lag %lld\n"
        "# HELP pitboss_events_own_syncs_total Syncs of the log the dispatcher made itself for "
        "committed events that waited to be known durable (another process's, or a late sync).\n"
        "# TYPE pitboss_events_own_syncs_total counter\n"
        "pitboss_events_own_syncs_total %llu\n",
        (unsigned long long)st.delivered, st.clients, (unsigned long long)st.dropped, lag,
        (unsigned long long)st.own_syncs);
}

/* The relay to NATS JetStream (events/jetstream.h), when it runs: its mark, what
 * JetStream stored and dropped as repeats, failed rounds, events pruned before
 * they were relayed, whether it is connected, and its lag behind the outbox. */
static void jetstream_metrics(pb_http_request *req, pb_jetstream *j, pb_http_buf *out)
{
    if (!j)
        return;
    pb_jetstream_stats st;
    pb_jetstream_stats_get(j, &st);
    int64_t last = st.relayed_id;
    pb_store_conn *c = pb_http_conn(req);
    if (c && pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK) {
        if (pb_store_event_newest(c, &last) != PB_STORE_OK)
            last = st.relayed_id;
        pb_store_rollback(c);
    }
    pb_http_buf_printf(
        out,
        "# HELP pitboss_events_jetstream_relayed_id The newest outbox id in the JetStream stream "
        "(every event up to it is there).\n"
        "# TYPE pitboss_events_jetstream_relayed_id gauge\n"
        "pitboss_events_jetstream_relayed_id %lld\n"
        "# HELP pitboss_events_jetstream_lag Events in the outbox not yet in the stream.\n"
        "# TYPE pitboss_events_jetstream_lag gauge\n"
        "pitboss_events_jetstream_lag %lld\n"
        "# HELP pitboss_events_jetstream_published_total Events JetStream stored.\n"
        "# TYPE pitboss_events_jetstream_published_total counter\n"
        "pitboss_events_jetstream_published_total %llu\n"
        "# HELP pitboss_events_jetstream_duplicates_total Events JetStream dropped as already "
        "stored (repeats after a failure or a crash).\n"
        "# TYPE pitboss_events_jetstream_duplicates_total counter\n"
        "pitboss_events_jetstream_duplicates_total %llu\n"
        "# HELP pitboss_events_jetstream_failures_total Publish rounds that failed and were "
        "repeated (NATS away, the stream missing or refusing).\n"
        "# TYPE pitboss_events_jetstream_failures_total counter\n"
        "pitboss_events_jetstream_failures_total %llu\n"
        "# HELP pitboss_events_jetstream_lost_total Events pruned from the outbox before they "
        "were relayed.\n"
        "# TYPE pitboss_events_jetstream_lost_total counter\n"
        "pitboss_events_jetstream_lost_total %llu\n"
        "# HELP pitboss_events_jetstream_connected 1 while connected to NATS with a usable "
        "stream.\n"
        "# TYPE pitboss_events_jetstream_connected gauge\n"
        "pitboss_events_jetstream_connected %d\n",
        (long long)st.relayed_id, last > st.relayed_id ? (long long)(last - st.relayed_id) : 0LL,
        (unsigned long long)st.published, (unsigned long long)st.duplicates,
        (unsigned long long)st.failures, (unsigned long long)st.lost, st.connected ? 1 : 0);
}

/* The payouts a PSP did not take, and their retry (cashier.h). */
/* The daily reconciliation's series, one PSP a call (pb_cashier_reconcile_stats). */
static void recon_runs_line(void *ctx, const char *psp, uint64_t runs, uint64_t failures,
                            int64_t gaps, int64_t last)
{
    (void)gaps;
    (void)last;
    pb_http_buf_printf(ctx,
                       "pitboss_reconciliation_daily_runs_total{psp=\"%s\",result=\"ok\"} %llu\n"
                       "pitboss_reconciliation_daily_runs_total{psp=\"%s\",result=\"failed\"} "
                       "%llu\n",
                       psp, (unsigned long long)runs, psp, (unsigned long long)failures);
}

static void recon_gap_line(void *ctx, const char *psp, uint64_t runs, uint64_t failures,
                           int64_t gaps, int64_t last)
{
    (void)runs;
    (void)failures;
    if (last)
        pb_http_buf_printf(ctx, "pitboss_reconciliation_discrepancies{psp=\"%s\"} %lld\n", psp,
                           (long long)gaps);
}

static void recon_time_line(void *ctx, const char *psp, uint64_t runs, uint64_t failures,
                            int64_t gaps, int64_t last)
{
    (void)runs;
    (void)failures;
    (void)gaps;
    if (last)
        pb_http_buf_printf(ctx,
                           "pitboss_reconciliation_last_run_timestamp_seconds{psp=\"%s\"} %lld\n",
                           psp, (long long)(last / 1000000));
}

static void cashier_metrics(pb_cashier *k, pb_http_buf *out)
{
    if (!k)
        return;
    pb_cashier_stats st;
    pb_cashier_stats_get(k, &st);
    pb_http_buf_printf(
        out,
        "# HELP pitboss_cashier_payouts_refused_total Payout attempts the PSP did not take "
        "(the withdrawal stays approved until the retry's).\n"
        "# TYPE pitboss_cashier_payouts_refused_total counter\n"
        "pitboss_cashier_payouts_refused_total %llu\n"
        "# HELP pitboss_cashier_payouts_resent_total Payouts the retry sent again and the PSP "
        "took.\n"
        "# TYPE pitboss_cashier_payouts_resent_total counter\n"
        "pitboss_cashier_payouts_resent_total %llu\n"
        "# HELP pitboss_cashier_payouts_waiting Approved withdrawals whose payout was not sent "
        "at the retry's last pass: one that stays up means a PSP keeps refusing.\n"
        "# TYPE pitboss_cashier_payouts_waiting gauge\n"
        "pitboss_cashier_payouts_waiting %llu\n",
        (unsigned long long)st.payouts_refused, (unsigned long long)st.payouts_resent,
        (unsigned long long)st.payouts_waiting);
    size_t mark = out->len;
    pb_http_buf_puts(
        out, "# HELP pitboss_reconciliation_daily_runs_total The daily reconciliation's runs "
             "(PITBOSS_RECONCILE_AT), by PSP and result.\n"
             "# TYPE pitboss_reconciliation_daily_runs_total counter\n");
    size_t head = out->len;
    pb_cashier_reconcile_stats(k, recon_runs_line, out);
    if (out->len == head) { /* off: no family */
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return;
    }
    pb_http_buf_puts(out,
                     "# HELP pitboss_reconciliation_discrepancies The discrepancies of the last "
                     "daily run, by PSP: alert above 0.\n"
                     "# TYPE pitboss_reconciliation_discrepancies gauge\n");
    pb_cashier_reconcile_stats(k, recon_gap_line, out);
    pb_http_buf_puts(out,
                     "# HELP pitboss_reconciliation_last_run_timestamp_seconds When the last daily "
                     "run was made, by PSP (absent before the first): alert when older than "
                     "a day and a half.\n"
                     "# TYPE pitboss_reconciliation_last_run_timestamp_seconds gauge\n");
    pb_cashier_reconcile_stats(k, recon_time_line, out);
}

/* The in-house games' retry of rounds left unfinished (play.h pb_play_stats). */
static void games_metrics(pb_play *p, pb_http_buf *out)
{
    if (!p)
        return;
    pb_play_stats st;
    pb_play_stats_get(p, &st);
    pb_http_buf_printf(
        out,
        "# HELP pitboss_games_rounds_retried_total In-house rounds (crash bets among them) a "
        "transient failure left pending or settling that the retry drove on while running.\n"
        "# TYPE pitboss_games_rounds_retried_total counter\n"
        "pitboss_games_rounds_retried_total %llu\n"
        "# HELP pitboss_games_retry_failures_total Rounds a retry pass could not drive on (tried "
        "again, with backoff).\n"
        "# TYPE pitboss_games_retry_failures_total counter\n"
        "pitboss_games_retry_failures_total %llu\n"
        "# HELP pitboss_games_rounds_waiting Rounds still unfinished after the retry's last "
        "pass: one that stays up means the store or the wallet keeps failing.\n"
        "# TYPE pitboss_games_rounds_waiting gauge\n"
        "pitboss_games_rounds_waiting %llu\n"
        "# HELP pitboss_games_mines_abandoned_total Mines games left untouched for "
        "PITBOSS_MINES_ABANDON_S that the server cashed out (its periodic pass, start-up).\n"
        "# TYPE pitboss_games_mines_abandoned_total counter\n"
        "pitboss_games_mines_abandoned_total %llu\n"
        "# HELP pitboss_games_rounds_stuck In-house rounds no retry can finish, at the retry's "
        "last pass (not retried; logged games.round_stuck): settling, their win refused by the "
        "wallet for good (a staff void, POST /v1/admin/players/{id}/rounds/{round}/void, ends "
        "them), or voiding, their stake's rollback or round close refused for good (nothing in "
        "pitboss ends them: an operator resolves them, README \"Stuck settling\"); alert on "
        "> 0.\n"
        "# TYPE pitboss_games_rounds_stuck gauge\n"
        "pitboss_games_rounds_stuck %llu\n",
        (unsigned long long)st.rounds_retried, (unsigned long long)st.retry_failures,
        (unsigned long long)st.rounds_waiting, (unsigned long long)st.mines_abandoned,
        (unsigned long long)st.rounds_stuck);
}

/* serve's signed ledger anchors (ledger.h pb_ledger_anchor_stats; README "Ledger
 * anchors"): the age is absent until there is an anchor. */
static void anchor_metrics(const pb_ledger_anchor_stats *st, pb_http_buf *out)
{
    if (!st)
        return;
    int64_t created = atomic_load(&st->created_at);
    pb_http_buf_printf(
        out,
        "# HELP pitboss_ledger_anchor_seq The transfer seq the newest signed ledger anchor "
        "vouches for (0: none yet); transfers above it are not signed yet.\n"
        "# TYPE pitboss_ledger_anchor_seq gauge\n"
        "pitboss_ledger_anchor_seq %lld\n"
        "# HELP pitboss_ledger_anchors_total Ledger anchors this process signed and wrote.\n"
        "# TYPE pitboss_ledger_anchors_total counter\n"
        "pitboss_ledger_anchors_total %llu\n"
        "# HELP pitboss_ledger_anchor_failures_total Anchoring attempts that failed (each "
        "logged ledger.anchor; retried with backoff); alert on any increase.\n"
        "# TYPE pitboss_ledger_anchor_failures_total counter\n"
        "pitboss_ledger_anchor_failures_total %llu\n",
        (long long)atomic_load(&st->seq), (unsigned long long)atomic_load(&st->written),
        (unsigned long long)atomic_load(&st->failures));
    if (created > 0) {
        int64_t age_us = pb_time_now_us() - created;
        if (age_us < 0)
            age_us = 0;
        pb_http_buf_printf(
            out,
            "# HELP pitboss_ledger_anchor_age_seconds Seconds since the newest ledger anchor "
            "was signed (absent while there is none). Anchors are written only when "
            "something is new: it grows on an idle ledger; with transfers coming in it "
            "stays under the anchoring period (60 s) unless anchoring fails.\n"
            "# TYPE pitboss_ledger_anchor_age_seconds gauge\n"
            "pitboss_ledger_anchor_age_seconds %lld.%03lld\n",
            (long long)(age_us / 1000000), (long long)(age_us % 1000000 / 1000));
    }
}

int pb_api_metrics_token_set(pb_api_app *a, const char *token, char *err, size_t cap)
{
    size_t n = strlen(token);
    bool ok = n >= 16 && n < sizeof a->metrics_token;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)token[i]) || strchr("._~+/=-", token[i]);
    if (!ok) {
        snprintf(err, cap,
                 "PITBOSS_METRICS_TOKEN must be 16 to %zu characters of A-Z a-z 0-9 . _ ~ + / = -",
                 sizeof a->metrics_token - 1);
        return -1;
    }
    memcpy(a->metrics_token, token, n + 1);
    return 0;
}

/* The scrape's bearer token against the configured one (constant time for a token of
 * the right length; its length is no secret). */
static bool metrics_allowed(const pb_api_app *a, const pb_http_request *req)
{
    if (!a->metrics_token[0])
        return true;
    const char *h = pb_http_header(req, "Authorization");
    size_t n = strlen(a->metrics_token);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    return strlen(h) == n && sodium_memcmp(h, a->metrics_token, n) == 0;
}

void pb_api_metrics(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    if (!metrics_allowed(a, req)) {
        pb_http_reply_error_msg(req, PB_ERR_UNAUTHENTICATED, NULL,
                                "/metrics needs the bearer token the server was given "
                                "(PITBOSS_METRICS_TOKEN)");
        return;
    }
    pb_http_buf out = {0};
    pb_http_buf_printf(&out,
                       "# HELP pitboss_build_info The running pitboss version.\n"
                       "# TYPE pitboss_build_info gauge\n"
                       "pitboss_build_info{version=\"%s\"} 1\n"
                       "# HELP pitboss_process_start_time_seconds Start time of the process "
                       "since the Unix epoch.\n"
                       "# TYPE pitboss_process_start_time_seconds gauge\n"
                       "pitboss_process_start_time_seconds %lld\n",
                       PB_VERSION, (long long)(a->started_us / 1000000));
    if (a->http)
        pb_http_server_metrics(a->http, &out);
    pb_api_ledger_metrics(a->ledger, &out);
    events_metrics(req, a->events, &out); /* @backoffice */
    jetstream_metrics(req, a->jetstream, &out);
    pb_api_backups_metrics(a->backups, &out);
    cashier_metrics(a->cashier, &out);
    games_metrics(a->play, &out);
    anchor_metrics(a->anchors, &out);
    pb_api_request_sweep_metrics(a->request_sweep, &out);
    pb_http_reply_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}

void pb_api_openapi(pb_http_request *req, void *app)
{
    (void)app;
    const pb_embedded_file *f = &pb_api_openapi_files[0];
    if (!f->name) {
        pb_http_reply_error(req, PB_ERR_NOT_FOUND, NULL);
        return;
    }
    pb_http_reply_text(req, 200, "application/yaml; charset=utf-8", f->data, strlen(f->data));
}

void pb_api_docs(pb_http_request *req, void *app)
{
    (void)app;
    pb_http_buf b = {0};
    pb_http_buf_printf(&b,
                       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<title>pitboss API %s</title>\n<style>"
                       "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
                       "table{border-collapse:collapse}td,th{padding:.3em .8em;text-align:left;"
                       "border-bottom:1px solid #ddd}code{font-size:.95em}"
                       ".m{font-weight:bold}</style></head><body>\n"
                       "<h1>pitboss API %s</h1>\n<p>The full description is "
                       "<a href=\"/openapi.yaml\">/openapi.yaml</a> (OpenAPI 3.1). "
                       "Errors are <code>{\"error\":{\"code\",\"message\",\"field\","
                       "\"trace_id\"}}</code>.</p>\n"
                       "<table><tr><th>method</th><th>path</th><th>permission</th>"
                       "<th>name</th></tr>\n",
                       PB_VERSION, PB_VERSION);
    for (size_t i = 0; i < pb_api_route_count; i++) {
        const pb_route *r = &pb_api_routes[i];
        pb_http_buf_puts(&b, "<tr><td class=\"m\">");
        pb_http_buf_html(&b, r->method);
        pb_http_buf_puts(&b, "</td><td><code>");
        pb_http_buf_html(&b, r->pattern);
        pb_http_buf_puts(&b, "</code></td><td>");
        pb_http_buf_html(&b, r->permission ? r->permission : "public");
        pb_http_buf_puts(&b, "</td><td>");
        pb_http_buf_html(&b, r->name);
        pb_http_buf_puts(&b, "</td></tr>\n");
    }
    pb_http_buf_puts(&b, "</table>\n</body></html>\n");
    pb_http_reply_buf(req, 200, "text/html; charset=utf-8", &b);
}
