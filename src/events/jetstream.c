/*
 * jetstream.c — the outbox relayed to NATS JetStream (see jetstream.h).
 *
 * The thread's loop: make sure the stream takes our subjects (created when asked
 * and missing); read up to `batch` outbox rows above the mark and at or below the
 * durable mark; publish each asynchronously (the connection's acknowledgement
 * handler counts the answers); wait for every answer of the round
 * (js_PublishAsyncComplete); move the mark past the round when all were stored or
 * dropped as duplicates, else drop what is pending and try the round again after a
 * pause that doubles up to 5 s. The mark reaches event_relay every mark_every_ms
 * and at close.
 *
 * Waking: appends bump the process-wide generation (events.h) before they commit;
 * the relay reads at most every MIN_GAP, and after a read that found nothing while
 * the generation moved it looks again MIN_GAP later (the rows were committing, or
 * waiting for their sync), else it sleeps until the next bump or idle_poll_ms.
 */
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/str.h"
#include "core/time.h"
#include "events/events_internal.h"
#include "events/jetstream.h"

#define MIN_GAP_US 2000
#define RETRY_MAX_MS 5000
#define LOG_EVERY_US 10000000 /* a failing relay logs at most every 10 s */
#define NAME_MAX_ 64
#define SUBJECT_MAX 128

/*
 * What libnats's callbacks reach: the round's acknowledgements (counted by ack() on a
 * connection thread) and the closing flag. It lives apart from the relay because the
 * library runs connection callbacks on a thread of its own, possibly after
 * natsConnection_Destroy has returned (a disconnect at close was seen to reach a
 * freed relay under ASan); the closed callback, the connection's last, frees it.
 */
typedef struct nats_link {
    pthread_mutex_t mu;
    int acked, dups, nacks;
    char nack_text[256];
    atomic_bool closing;
} nats_link;

struct pb_jetstream {
    pb_store *store;
    pb_store_conn *conn; /* the thread's own */
    pb_jetstream_config cfg;
    char url[1024], stream[NAME_MAX_ + 1], subject[SUBJECT_MAX + 1];
    char creds[1024], ca[1024];
    char mark_name[NAME_MAX_ + 16];

    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    pthread_t thread;
    bool started;
    atomic_bool stop;

    /* the thread's own */
    int64_t mark;     /* every event up to it is in the stream */
    int64_t saved;    /* the mark as event_relay has it */
    int64_t saved_at; /* mono µs of that write */
    bool ready;       /* the stream was checked and takes our subjects */
    bool failing;     /* since the last failure, nothing was relayed */
    bool async_used;  /* a message was published asynchronously */
    int retry_ms;
    int64_t logged_at; /* mono µs of the last failure logged */
    uint64_t unlogged; /* failures since */
    frame buf;         /* a message's data */

    nats_link *link; /* what the connection's callbacks use (see nats_link) */

    _Atomic int64_t relayed_id;
    atomic_uint_fast64_t published, duplicates, failures, lost;
    atomic_bool usable;
};

/* ---- names ---- */

void pb_jetstream_mark_name(const char *stream, char *out, size_t cap)
{
    snprintf(out, cap, "jetstream:%s", stream);
}

/* A subject token: printable ASCII without '.', '*', '>' and spaces. */
static bool token_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '.' || ch == '*' || ch == '>')
            return false;
    }
    return true;
}

/* Dot-separated tokens, each token_ok. */
static bool subject_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SUBJECT_MAX)
        return false;
    const char *t = s;
    for (;;) {
        const char *dot = strchr(t, '.');
        size_t len = dot ? (size_t)(dot - t) : strlen(t);
        if (!token_ok(t, len))
            return false;
        if (!dot)
            return true;
        t = dot + 1;
    }
}

/* Whether the stream's subject pattern (with the '*' and '>' wildcards) takes
 * subject. */
static bool pattern_takes(const char *pattern, const char *subject)
{
    const char *p = pattern, *s = subject;
    for (;;) {
        const char *pd = strchr(p, '.'), *sd = strchr(s, '.');
        size_t pl = pd ? (size_t)(pd - p) : strlen(p), sl = sd ? (size_t)(sd - s) : strlen(s);
        if (pl == 1 && p[0] == '>')
            return true; /* one token or more: s has one here */
        if (!(pl == 1 && p[0] == '*') && (pl != sl || memcmp(p, s, pl) != 0))
            return false;
        if (!pd || !sd)
            return !pd && !sd;
        p = pd + 1;
        s = sd + 1;
    }
}

/* ---- the relay's mark ---- */

static void save_mark(pb_jetstream *j, bool force)
{
    int64_t now = pb_time_mono_us();
    if (j->mark == j->saved || (!force && now - j->saved_at < (int64_t)j->cfg.mark_every_ms * 1000))
        return;
    if (pb_store_event_relay_set(j->conn, j->mark_name, j->mark, pb_time_now_us()) != PB_STORE_OK) {
        pb_log(PB_LOG_WARN, "events.jetstream_mark", "cannot write the relay's mark %lld: %s",
               (long long)j->mark, pb_store_errmsg(j->conn));
        j->saved_at = now; /* tried again after mark_every_ms (or at close) */
        return;
    }
    j->saved = j->mark;
    j->saved_at = now;
}

/* ---- NATS ---- */

static void ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    nats_link *k = closure;
    pthread_mutex_lock(&k->mu);
    if (pa) {
        k->acked++;
        if (pa->Duplicate)
            k->dups++;
    } else {
        k->nacks++;
        if (pae && !k->nack_text[0])
            snprintf(k->nack_text, sizeof k->nack_text, "%s (%s)", pae->ErrText ? pae->ErrText : "",
                     natsStatus_GetText(pae->Err));
    }
    pthread_mutex_unlock(&k->mu);
    natsMsg_Destroy(msg);
}

static void link_free(nats_link *k)
{
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    nats_link *k = closure;
    if (!atomic_load(&k->closing))
        pb_log(PB_LOG_WARN, "events.jetstream_disconnected",
               "lost the connection to NATS; reconnecting");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    pb_log(PB_LOG_INFO, "events.jetstream_reconnected", "connected to NATS again");
}

static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    pb_log(PB_LOG_INFO, "events.jetstream_connected", "connected to NATS");
}

static void on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    link_free(closure);
}

/* A failure of the relay (NATS away, the stream wrong, a round refused): logged at
 * most every LOG_EVERY_US with the count since. */
static void failed(pb_jetstream *j, const char *what)
{
    atomic_fetch_add(&j->failures, 1);
    j->unlogged++;
    int64_t now = pb_time_mono_us();
    if (j->logged_at && now - j->logged_at < LOG_EVERY_US)
        return;
    pb_log(PB_LOG_WARN, "events.jetstream_failed",
           "relay to stream %s: %s (%llu failure(s) since the last report); events wait in "
           "the outbox from id %lld",
           j->stream, what, (unsigned long long)j->unlogged, (long long)j->mark + 1);
    j->logged_at = now;
    j->unlogged = 0;
}

/* Checks that the stream exists and takes our subjects; creates it when missing
 * and allowed. */
static bool ensure_stream(pb_jetstream *j)
{
    if (natsConnection_Status(j->nc) != NATS_CONN_STATUS_CONNECTED) {
        failed(j, "not connected to NATS");
        return false;
    }
    char probe[SUBJECT_MAX + 8], msg[512];
    snprintf(probe, sizeof probe, "%s.x.y", j->subject);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, j->js, j->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND && j->cfg.create_stream) {
        char pattern[SUBJECT_MAX + 3];
        snprintf(pattern, sizeof pattern, "%s.>", j->subject);
        const char *subjects[1] = {pattern};
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = j->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Duplicates = j->cfg.duplicate_window_s * 1000000000;
        s = js_AddStream(&si, j->js, &sc, NULL, &jerr);
        if (s == NATS_OK)
            pb_log(PB_LOG_INFO, "events.jetstream_stream",
                   "created stream %s (subjects %s, file storage, duplicate window %lld s)",
                   j->stream, pattern, (long long)j->cfg.duplicate_window_s);
    }
    if (s != NATS_OK) {
        snprintf(msg, sizeof msg, "stream %s: %s (JetStream error %d)", j->stream,
                 s == NATS_NOT_FOUND ? "does not exist" : natsStatus_GetText(s), (int)jerr);
        failed(j, msg);
        return false;
    }
    bool takes = false;
    for (int i = 0; si->Config && i < si->Config->SubjectsLen && !takes; i++)
        takes = pattern_takes(si->Config->Subjects[i], probe);
    jsStreamInfo_Destroy(si);
    if (!takes) {
        snprintf(msg, sizeof msg, "the stream does not take the subjects %s.>", j->subject);
        failed(j, msg);
        return false;
    }
    return true;
}

/* ---- a publish round ---- */

typedef struct round {
    pb_jetstream *j;
    int n;
    int64_t first, last;
    natsStatus err;
} round;

static int publish_row(void *ctx, const pb_store_event *row)
{
    round *r = ctx;
    pb_jetstream *j = r->j;
    pb_event e = ev_event_of_row(row);
    char subj[SUBJECT_MAX + PB_EVENT_BRAND_MAX + PB_EVENT_TYPE_MAX + 8];
    const char *brand = token_ok(row->brand, strlen(row->brand)) ? row->brand : "_";
    /* a type is dot-separated tokens by the registry's names; any other is sent
     * under "_" rather than as a subject that would mean something else */
    const char *type = subject_ok(row->type) ? row->type : "_";
    snprintf(subj, sizeof subj, "%s.%s.%s", j->subject, brand, type);
    j->buf.len = 0;
    if (!ev_frame_event_json(&j->buf, &e)) {
        r->err = NATS_NO_MEMORY;
        return 1;
    }
    char id[SUBJECT_MAX + 32], num[24];
    snprintf(id, sizeof id, "%s:%lld", j->subject, (long long)row->id);
    snprintf(num, sizeof num, "%lld", (long long)row->id);
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subj, NULL, j->buf.p, (int)j->buf.len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Pitboss-Event-Id", num);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Pitboss-Event-Type", row->type);
    if (s == NATS_OK && row->trace_id[0])
        s = natsMsgHeader_Set(m, "Pitboss-Trace-Id", row->trace_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.ExpectStream = j->stream;
    if (s == NATS_OK) {
        j->async_used = true;
        s = js_PublishMsgAsync(j->js, &m, &po); /* ours until it is taken */
    }
    natsMsg_Destroy(m);
    if (s != NATS_OK) {
        r->err = s;
        return 1;
    }
    if (!r->n)
        r->first = row->id;
    r->last = row->id;
    r->n++;
    return 0;
}

/* Drops whatever the library still holds of a failed round (libnats 3.4 crashes
 * asked for the list before the connection's first asynchronous publish). */
static void drop_pending(pb_jetstream *j)
{
    if (!j->async_used)
        return;
    natsMsgList pending = {0};
    if (js_PublishAsyncGetPendingList(&pending, j->js) == NATS_OK)
        natsMsgList_Destroy(&pending);
}

/* One round: the number of events relayed (0: none waited, or the round failed,
 * *failed_round then set). */
static int relay_round(pb_jetstream *j, bool *failed_round)
{
    *failed_round = false;
    int64_t upto = pb_store_event_durable(j->store);
    if (upto <= j->mark)
        return 0;
    nats_link *k = j->link;
    pthread_mutex_lock(&k->mu);
    k->acked = k->dups = k->nacks = 0;
    k->nack_text[0] = '\0';
    pthread_mutex_unlock(&k->mu);
    round r = {.j = j, .err = NATS_OK};
    pb_store_rc rc = pb_store_event_scan(j->conn, j->mark, upto, (size_t)j->cfg.batch, publish_row,
                                         &r);
    char msg[400];
    if (rc != PB_STORE_OK && r.err == NATS_OK) {
        snprintf(msg, sizeof msg, "cannot read the outbox: %s", pb_store_errmsg(j->conn));
        drop_pending(j);
        failed(j, msg);
        *failed_round = true;
        return 0;
    }
    if (r.n > 0) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = j->cfg.ack_wait_ms;
        natsStatus s = js_PublishAsyncComplete(j->js, &po);
        pthread_mutex_lock(&k->mu);
        int acked = k->acked, dups = k->dups, nacks = k->nacks;
        if (s == NATS_OK && nacks)
            snprintf(msg, sizeof msg, "%d of %d messages refused: %s", nacks, r.n, k->nack_text);
        pthread_mutex_unlock(&k->mu);
        if (s != NATS_OK || r.err != NATS_OK || nacks || acked != r.n) {
            if (s != NATS_OK || (r.err != NATS_OK && !nacks))
                snprintf(msg, sizeof msg, "publishing: %s",
                         natsStatus_GetText(s != NATS_OK ? s : r.err));
            drop_pending(j);
            failed(j, msg);
            *failed_round = true;
            return 0;
        }
        atomic_fetch_add(&j->published, (uint64_t)(acked - dups));
        atomic_fetch_add(&j->duplicates, (uint64_t)dups);
    } else if (r.err != NATS_OK) {
        snprintf(msg, sizeof msg, "publishing: %s", natsStatus_GetText(r.err));
        drop_pending(j);
        failed(j, msg);
        *failed_round = true;
        return 0;
    }
    /* rows between the mark and the first one read were pruned before they were
     * relayed (ids are contiguous: a rolled-back append gives its id back) */
    int64_t first = r.n ? r.first : upto + 1, lost = 0;
    if (!r.n) { /* nothing read at or below upto: all of it is gone */
        int64_t lo = 0, hi = 0;
        if (pb_store_event_bounds(j->conn, &lo, &hi) == PB_STORE_OK && lo > j->mark + 1)
            first = lo <= upto ? lo : upto + 1;
        else
            first = j->mark + 1;
    }
    lost = first - j->mark - 1;
    if (lost > 0) {
        atomic_fetch_add(&j->lost, (uint64_t)lost);
        pb_log(PB_LOG_ERROR, "events.jetstream_lost",
               "%lld event(s) (ids %lld to %lld) were pruned from the outbox before they "
               "were relayed to stream %s; they are not in it",
               (long long)lost, (long long)j->mark + 1, (long long)first - 1, j->stream);
    }
    j->mark = r.n ? r.last : (lost > 0 ? first - 1 : j->mark);
    atomic_store(&j->relayed_id, j->mark);
    return r.n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits the current retry pause (stopping early at close), doubling the next. */
static void pause_retry(pb_jetstream *j)
{
    int ms = j->retry_ms;
    j->retry_ms = j->retry_ms * 2 < RETRY_MAX_MS ? j->retry_ms * 2 : RETRY_MAX_MS;
    for (int t = 0; t < ms && !atomic_load(&j->stop); t += 50)
        sleep_ms(ms - t < 50 ? ms - t : 50);
}

static void *run(void *arg)
{
    pb_jetstream *j = arg;
    pthread_setname_np(pthread_self(), "pb-jetstream");
    uint64_t seen = pb_events_generation();
    while (!atomic_load(&j->stop)) {
        if (!j->ready) {
            j->ready = ensure_stream(j);
            atomic_store(&j->usable, j->ready);
            if (!j->ready) {
                j->failing = true;
                pause_retry(j);
                continue;
            }
        }
        uint64_t g = pb_events_generation();
        bool bad = false;
        int n = relay_round(j, &bad);
        if (bad) { /* the stream may have gone or changed: checked again after the pause */
            j->failing = true;
            j->ready = false;
            atomic_store(&j->usable, false);
            pause_retry(j);
            continue;
        }
        j->retry_ms = j->cfg.retry_ms;
        if (j->failing && n > 0) {
            pb_log(PB_LOG_INFO, "events.jetstream_recovered",
                   "relaying to stream %s again, from id %lld", j->stream,
                   (long long)(j->mark - n + 1));
            j->failing = false;
            j->logged_at = 0;
            j->unlogged = 0;
        }
        save_mark(j, false);
        if (n == j->cfg.batch)
            continue;
        if (n > 0 || g != seen) { /* a steady flow, or rows committing: look again soon */
            seen = g;
            sleep_ms(MIN_GAP_US / 1000);
            continue;
        }
        pb_events_wait(g, j->cfg.idle_poll_ms);
        seen = g;
    }
    save_mark(j, true);
    return NULL;
}

/* ---- open / close ---- */

static bool copy(char *dst, size_t cap, const char *src, const char *what, char *err, size_t errcap)
{
    if (!src)
        src = "";
    if (strlen(src) >= cap) {
        snprintf(err, errcap, "NATS %s is too long", what);
        return false;
    }
    pb_strlcpy(dst, src, cap);
    return true;
}

static bool start_connection(pb_jetstream *j, char *err, size_t errcap)
{
    natsStatus s = natsOptions_Create(&j->opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(j->opts, j->url);
    if (s == NATS_OK)
        s = natsOptions_SetName(j->opts, "pitboss events relay");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(j->opts, -1); /* for ever */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(j->opts, 500);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(j->opts, true, on_connected, j->link);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(j->opts, on_disconnected, j->link);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(j->opts, on_reconnected, j->link);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(j->opts, on_closed, j->link);
    if (s == NATS_OK && j->creds[0])
        s = natsOptions_SetUserCredentialsFromFiles(j->opts, j->creds, NULL);
    if (s == NATS_OK && j->ca[0]) {
        s = natsOptions_SetSecure(j->opts, true);
        if (s == NATS_OK)
            s = natsOptions_LoadCATrustedCertificates(j->opts, j->ca);
    }
    if (s != NATS_OK) {
        snprintf(err, errcap, "NATS settings: %s", nats_GetLastError(NULL));
        return false;
    }
    s = natsConnection_Connect(&j->nc, j->opts);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        snprintf(err, errcap, "NATS connection to %s: %s", j->url, nats_GetLastError(NULL));
        return false;
    }
    if (s == NATS_NOT_YET_CONNECTED)
        pb_log(PB_LOG_WARN, "events.jetstream_connecting",
               "NATS at %s is not reachable yet; the relay keeps trying", j->url);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.AckHandler = ack;
    jo.PublishAsync.AckHandlerClosure = j->link;
    jo.PublishAsync.MaxPending = j->cfg.batch;
    if (natsConnection_JetStream(&j->js, j->nc, &jo) != NATS_OK) {
        snprintf(err, errcap, "JetStream context: %s", nats_GetLastError(NULL));
        return false;
    }
    return true;
}

/* The mark to start from: the stored one, else the outbox's newest (from_new) or
 * the id before its oldest. */
static bool load_mark(pb_jetstream *j, char *err, size_t errcap)
{
    bool found = false;
    int64_t mark = 0, first = 0, last = 0;
    if (pb_store_event_relay_get(j->conn, j->mark_name, &mark, &found) != PB_STORE_OK ||
        (!found && pb_store_event_bounds(j->conn, &first, &last) != PB_STORE_OK)) {
        snprintf(err, errcap, "cannot read the outbox: %s", pb_store_errmsg(j->conn));
        return false;
    }
    if (!found)
        mark = j->cfg.from_new ? last : (first > 0 ? first - 1 : last);
    j->mark = j->saved = mark;
    if (!found) /* written once the first round is relayed (or at close) */
        j->saved = -1;
    atomic_store(&j->relayed_id, mark);
    return true;
}

pb_jetstream *pb_jetstream_open(pb_store *store, const pb_jetstream_config *cfg, char *err,
                                size_t errcap)
{
    if (!cfg || !cfg->url || !cfg->url[0]) {
        snprintf(err, errcap, "no NATS URL");
        return NULL;
    }
    pb_jetstream *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    j->cfg = *cfg;
    pb_jetstream_config *c = &j->cfg;
    if (!copy(j->url, sizeof j->url, c->url, "URL", err, errcap) ||
        !copy(j->stream, sizeof j->stream, c->stream ? c->stream : "PITBOSS_EVENTS", "stream name",
              err, errcap) ||
        !copy(j->subject, sizeof j->subject, c->subject ? c->subject : "pitboss.events", "subject",
              err, errcap) ||
        !copy(j->creds, sizeof j->creds, c->creds_file, "credentials file", err, errcap) ||
        !copy(j->ca, sizeof j->ca, c->ca_file, "CA file", err, errcap)) {
        free(j);
        return NULL;
    }
    if (!token_ok(j->stream, strlen(j->stream)) || strchr(j->stream, '/') ||
        strchr(j->stream, '\\')) {
        snprintf(err, errcap, "NATS stream name \"%s\": letters, digits, '-' or '_' only",
                 j->stream);
        free(j);
        return NULL;
    }
    if (!subject_ok(j->subject)) {
        snprintf(err, errcap,
                 "NATS subject \"%s\": dot-separated tokens without spaces, '*' or '>'",
                 j->subject);
        free(j);
        return NULL;
    }
    if (c->duplicate_window_s <= 0)
        c->duplicate_window_s = 120;
    if (c->batch <= 0)
        c->batch = 256;
    if (c->mark_every_ms <= 0)
        c->mark_every_ms = 1000;
    if (c->idle_poll_ms <= 0)
        c->idle_poll_ms = 1000;
    if (c->retry_ms <= 0)
        c->retry_ms = 200;
    if (c->ack_wait_ms <= 0)
        c->ack_wait_ms = 5000;
    j->retry_ms = c->retry_ms;
    pb_jetstream_mark_name(j->stream, j->mark_name, sizeof j->mark_name);
    j->store = store;
    if (!(j->link = calloc(1, sizeof *j->link))) {
        snprintf(err, errcap, "out of memory");
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->link->mu, NULL);
    if (!(j->conn = pb_store_connect(store, err, errcap)) || !load_mark(j, err, errcap) ||
        !start_connection(j, err, errcap)) {
        pb_jetstream_close(j);
        return NULL;
    }
    pb_log(PB_LOG_INFO, "events.jetstream_started",
           "relaying the outbox to NATS JetStream stream %s (subjects %s.<brand>.<type>) "
           "from id %lld",
           j->stream, j->subject, (long long)j->mark + 1); /* before the thread owns it */
    if (pthread_create(&j->thread, NULL, run, j) != 0) {
        snprintf(err, errcap, "cannot start the relay's thread");
        pb_jetstream_close(j);
        return NULL;
    }
    j->started = true;
    return j;
}

void pb_jetstream_close(pb_jetstream *j)
{
    if (!j)
        return;
    if (j->started) {
        atomic_store(&j->stop, true);
        pb_events_kick();
        pthread_join(j->thread, NULL);
    }
    atomic_store(&j->link->closing, true);
    if (j->js) {
        drop_pending(j);
        jsCtx_Destroy(j->js);
    }
    if (j->nc) { /* its closed callback, the last, frees the link */
        natsConnection_Close(j->nc);
        natsConnection_Destroy(j->nc);
    } else {
        link_free(j->link); /* no connection: no callback will come */
    }
    natsOptions_Destroy(j->opts);
    if (j->conn)
        pb_store_disconnect(j->conn);
    free(j->buf.p);
    free(j);
}

void pb_jetstream_stats_get(pb_jetstream *j, pb_jetstream_stats *out)
{
    out->relayed_id = atomic_load(&j->relayed_id);
    out->published = atomic_load(&j->published);
    out->duplicates = atomic_load(&j->duplicates);
    out->failures = atomic_load(&j->failures);
    out->lost = atomic_load(&j->lost);
    out->connected = atomic_load(&j->usable) &&
                     natsConnection_Status(j->nc) == NATS_CONN_STATUS_CONNECTED;
}
