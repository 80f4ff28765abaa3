/*
 * backups.c — `serve --backup-dir DIR`: the database backed up on a schedule,
 * each copy checked, the oldest removed beyond a count.
 *
 * Every `every_s` seconds a thread of its own takes an online backup
 * (pb_store_backup: writers are not blocked) into DIR as
 * pitboss-YYYYMMDDTHHMMSSZ.db (UTC; a suffix when two fall in one second). The
 * copy's integrity check, ledger verify and audit verify (against the key the
 * server signs its audit checkpoints with, as `pitboss audit verify
 * --keys-dir` checks) run on it before it gets its name; a copy that could
 * not be verified is abandoned, one with violations in its ledger or its
 * audit chain is kept (it is what the database held) and logged as an error.
 * After a clean copy, the oldest copies beyond `keep` are removed: neither a
 * failing schedule nor a database gone bad (its copies with violations) ever
 * pushes the last good copies out. Each run is logged (backup.done,
 * backup.violations, backup.failed) and counted for /metrics.
 *
 * The keys directory is not copied (README, Commands): it is backed up apart.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "audit/audit.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"
#include "ledger/ledger.h"

#define NAME_PREFIX "pitboss-"
#define NAME_SUFFIX ".db"

struct pb_api_backups {
    pb_store *store;
    char dir[1024];
    int every_s, keep;
    pb_ticker *ticker;
    pthread_mutex_t mu; /* the counters below */
    /* what the copies' audit checkpoints must be signed with (none: not checked) */
    pb_audit_trust trust[PB_AUDIT_TRUST_MAX];
    size_t ntrust;
    /* counted under mu, for /metrics */
    uint64_t ok, failed;
    int64_t last_ok_us;  /* wall clock of the last success; 0: none yet */
    int64_t last_bytes;  /* the last good copy's size */
    double last_seconds; /* how long the last good one took, checks included */
    uint64_t removed;    /* old copies removed */
    uint64_t violations; /* copies kept whose ledger or audit chain had violations */
};

typedef struct verified {
    const pb_audit_trust *trust; /* NULL: the audit chain is not checked */
    size_t ntrust;
    int rc; /* 0 clean, 1 violations, 2 could not run */
    pb_ledger_verify_summary sum;
    pb_audit_verify_summary audit;
} verified;

/* pb_store_backup's accept: ledger verify, then audit verify, on the copy;
 * kept unless one could not run. */
static bool accept_copy(void *ctx, const char *copy_path)
{
    verified *v = ctx;
    char err[256];
    v->rc = 2;
    pb_store *s = pb_store_open(copy_path, err, sizeof err);
    pb_store_conn *c = s ? pb_store_connect(s, err, sizeof err) : NULL;
    if (c && pb_ledger_verify(c, NULL, NULL, &v->sum) == PB_OK &&
        (!v->trust ||
         pb_audit_verify_trust(c, v->trust, v->ntrust, NULL, NULL, &v->audit) == PB_OK))
        v->rc = v->sum.violations || v->audit.violations ? 1 : 0;
    if (c)
        pb_store_disconnect(c);
    pb_store_close(s);
    return v->rc != 2;
}

static bool is_copy_name(const char *name)
{
    size_t n = strlen(name), p = strlen(NAME_PREFIX), x = strlen(NAME_SUFFIX);
    return n > p + x && strncmp(name, NAME_PREFIX, p) == 0 &&
           strcmp(name + n - x, NAME_SUFFIX) == 0;
}

/* A copy's place in time from its name: the stamp, then the number of a copy made in
 * the same second ("-2", "-3", ...; none is the first). strcmp alone would put
 * "…Z-10.db" before "…Z-2.db" and both before "…Z.db". */
static int by_time(const void *a, const void *b)
{
    const char *x = *(char *const *)a + strlen(NAME_PREFIX);
    const char *y = *(char *const *)b + strlen(NAME_PREFIX);
    size_t nx = strcspn(x, "-."), ny = strcspn(y, "-."); /* the stamp has neither */
    int c = nx == ny ? strncmp(x, y, nx) : nx < ny ? -1 : 1;
    if (c)
        return c;
    long sx = x[nx] == '-' ? strtol(x + nx + 1, NULL, 10) : 1;
    long sy = y[ny] == '-' ? strtol(y + ny + 1, NULL, 10) : 1;
    return sx < sy ? -1 : sx > sy;
}

/* Removes the oldest copies (by their names' time) beyond keep. */
static void prune(pb_api_backups *b)
{
    DIR *d = opendir(b->dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_copy_name(e->d_name))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **x = realloc(names, nc * sizeof *x);
            if (!x)
                break;
            names = x;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, by_time);
    for (size_t i = 0; i + (size_t)b->keep < n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", b->dir, names[i]);
        if (unlink(path) == 0) {
            pthread_mutex_lock(&b->mu);
            b->removed++;
            pthread_mutex_unlock(&b->mu);
            pb_log(PB_LOG_INFO, "backup.removed", "%s (keeping the newest %d)", path, b->keep);
        } else {
            pb_log(PB_LOG_WARN, "backup.remove_failed", "%s: %s", path, strerror(errno));
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* One scheduled backup; true when a clean copy was made (only then may older
 * ones go: a database gone bad must not push its last good copies out). */
static bool run_once(pb_api_backups *b)
{
    int64_t t0 = pb_time_mono_us();
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32], path[1200];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(path, sizeof path, "%s/" NAME_PREFIX "%s" NAME_SUFFIX, b->dir, stamp);
    struct stat st;
    for (int i = 2; lstat(path, &st) == 0 && i < 100; i++)
        snprintf(path, sizeof path, "%s/" NAME_PREFIX "%s-%d" NAME_SUFFIX, b->dir, stamp, i);
    char err[256];
    pb_store_conn *c = pb_store_connect(b->store, err, sizeof err);
    pb_store_backup_info info;
    memset(&info, 0, sizeof info);
    verified v = {.rc = 2, .trust = b->ntrust ? b->trust : NULL, .ntrust = b->ntrust};
    pb_store_rc r = PB_STORE_ERROR;
    if (c) {
        r = pb_store_backup(c, path, true, accept_copy, &v, &info);
        if (r != PB_STORE_OK)
            snprintf(err, sizeof err, "%s", pb_store_errmsg(c));
        pb_store_disconnect(c);
    }
    double secs = (double)(pb_time_mono_us() - t0) / 1e6;
    pthread_mutex_lock(&b->mu);
    if (r == PB_STORE_OK) {
        b->ok++;
        b->last_ok_us = pb_time_now_us();
        b->last_bytes = info.bytes;
        b->last_seconds = secs;
        b->violations += v.rc == 1;
    } else {
        b->failed++;
    }
    pthread_mutex_unlock(&b->mu);
    if (r != PB_STORE_OK) {
        pb_log(PB_LOG_ERROR, "backup.failed", "%s", err);
        return false;
    }
    if (v.sum.violations)
        pb_log(PB_LOG_ERROR, "backup.violations",
               "%s: the copy's ledger has %" PRId64 " violation(s) (run ledger verify on it)", path,
               v.sum.violations);
    if (v.audit.violations)
        pb_log(PB_LOG_ERROR, "backup.violations",
               "%s: the copy's audit chain has %" PRId64
               " violation(s) (run audit verify --keys-dir on it)",
               path, v.audit.violations);
    char audit[96];
    if (v.trust)
        snprintf(audit, sizeof audit, "%" PRId64 " audit entries", v.audit.entries);
    else
        snprintf(audit, sizeof audit, "the audit chain not checked");
    pb_log(PB_LOG_INFO, "backup.done",
           "%s: %" PRId64 " pages, %" PRId64 " bytes, %" PRId64 " transfers, %s; copy %.1f ms, "
           "check %.1f ms, %.2f s in all",
           path, info.pages, info.bytes, v.sum.transfers, audit, (double)info.copy_us / 1000.0,
           (double)info.check_us / 1000.0, secs);
    return v.rc == 0;
}

/* The pass: every every_s, the first after one wait. */
static bool backups_pass(void *arg, int64_t retry_ms)
{
    (void)retry_ms;
    pb_api_backups *b = arg;
    if (run_once(b))
        prune(b);
    return true;
}

pb_api_backups *pb_api_backups_start(pb_store *store, const char *dir, int every_s, int keep,
                                     const pb_audit_trust *trust, size_t ntrust, char *err,
                                     size_t errcap)
{
    if (!dir || !*dir || strlen(dir) >= 1000 || every_s < 1 || keep < 1) {
        snprintf(err, errcap, "backups: a directory (under 1000 bytes), every >= 1 s, keep >= 1");
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "backups: cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errcap, "backups: %s is not a directory this process can write", dir);
        return NULL;
    }
    if (trust && ntrust > PB_AUDIT_TRUST_MAX) {
        snprintf(err, errcap, "backups: more than %d trusted audit keys", PB_AUDIT_TRUST_MAX);
        return NULL;
    }
    pb_api_backups *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    b->store = store;
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    b->every_s = every_s;
    b->keep = keep;
    for (size_t i = 0; trust && i < ntrust; i++)
        b->trust[b->ntrust++] = trust[i];
    pthread_mutex_init(&b->mu, NULL);
    pb_ticker_spec spec = {.name = "pb-backup",
                           .clock = CLOCK_REALTIME,
                           .interval_ms = (int64_t)every_s * 1000,
                           .pass = backups_pass,
                           .arg = b};
    if (!(b->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "backups: cannot start a thread");
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    pb_log(PB_LOG_INFO, "backup.scheduled", "every %d s into %s, keeping the newest %d", every_s,
           dir, keep);
    return b;
}

void pb_api_backups_stop(pb_api_backups *b)
{
    if (!b)
        return;
    pb_ticker_stop(b->ticker); /* a backup under way finishes first */
    pthread_mutex_destroy(&b->mu);
    free(b);
}

void pb_api_backups_metrics(pb_api_backups *b, pb_http_buf *out)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    pb_http_buf_printf(
        out,
        "# HELP pitboss_backups_total Scheduled backups, by result (failed: no copy made).\n"
        "# TYPE pitboss_backups_total counter\n"
        "pitboss_backups_total{result=\"ok\"} %" PRIu64 "\n"
        "pitboss_backups_total{result=\"failed\"} %" PRIu64 "\n"
        "# HELP pitboss_backups_violations_total Copies kept whose ledger or audit verify "
        "found violations.\n"
        "# TYPE pitboss_backups_violations_total counter\n"
        "pitboss_backups_violations_total %" PRIu64 "\n"
        "# HELP pitboss_backups_removed_total Old copies removed beyond the count kept.\n"
        "# TYPE pitboss_backups_removed_total counter\n"
        "pitboss_backups_removed_total %" PRIu64 "\n"
        "# HELP pitboss_backup_last_success_timestamp_seconds When the last good copy was "
        "made (0: none yet).\n"
        "# TYPE pitboss_backup_last_success_timestamp_seconds gauge\n"
        "pitboss_backup_last_success_timestamp_seconds %" PRId64 ".%06" PRId64 "\n"
        "# HELP pitboss_backup_last_bytes The last good copy's size.\n"
        "# TYPE pitboss_backup_last_bytes gauge\n"
        "pitboss_backup_last_bytes %" PRId64 "\n"
        "# HELP pitboss_backup_last_duration_seconds How long the last good copy took, its "
        "checks included.\n"
        "# TYPE pitboss_backup_last_duration_seconds gauge\n"
        "pitboss_backup_last_duration_seconds %.3f\n",
        b->ok, b->failed, b->violations, b->removed, b->last_ok_us / 1000000,
        b->last_ok_us % 1000000, b->last_bytes, b->last_seconds);
    pthread_mutex_unlock(&b->mu);
}
