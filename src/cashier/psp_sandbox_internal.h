/*
 * psp_sandbox_internal.h — what the sandbox PSP's files share (psp_sandbox.c:
 * deposits, payouts, their records, the adapter's life; psp_sandbox_delivery.c:
 * the payout confirmations POSTed to the server's own webhook URL by the
 * delivery thread; psp_sandbox_report.c: its books of deposits collected and
 * payouts returned, and its settlement report). Private to src/cashier/.
 */
#ifndef PB_PSP_SANDBOX_INTERNAL_H
#define PB_PSP_SANDBOX_INTERNAL_H

#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cashier/cashier.h"

#define SECRET_HEX 64

/* A payout confirmation waiting to be delivered. */
typedef struct pending_event {
    struct pending_event *next;
    char event_id[PB_ID_STR_LEN + 8];
    char type[24];
    char reference[PB_STORE_CASHIER_REF_MAX + 1];
    int64_t amount;
    char currency[8];
    int64_t due_ms; /* monotonic */
    int attempts;
} pending_event;

/* One payout the sandbox knows of: taken (it pays it), or closed (never taken,
 * and refused from now on: a status query said so). */
typedef struct payout_record {
    char id[PB_ID_STR_LEN + 1]; /* the withdrawal's */
    bool closed;
    int64_t amount;
    char currency[8];
    int64_t at; /* when it was taken (µs; 0: recorded before the records had times) */
} payout_record;

/* A deposit the sandbox collected (the payer completed it), or a paid payout that
 * came back to it: a line of keys_dir/sandbox-psp.settlements. */
typedef struct settle_record {
    bool returned; /* false: a deposit collected; true: a payout returned */
    char reference[PB_STORE_CASHIER_REF_MAX + 1];
    int64_t amount;
    char currency[8];
    int64_t at; /* µs */
} settle_record;

#define PB_PSP_SANDBOX_PAYOUT_PREFIX "sbxo_"
/* The deposit knob (with stuck_knobs): the payer pays, the notification is lost. */
#define PB_PSP_SANDBOX_LOST_DEPOSIT 41

typedef struct sandbox {
    char secret[SECRET_HEX + 1];
    pb_psp_self_url_fn self_url;
    void *self_url_ctx;
    char url[256]; /* the server's base URL: asked once (by the thread) until known */
    bool have_url;
    int delay_ms;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    pending_event *queue;
    size_t queued;
    /* withdrawals whose first payout attempt was refused (the "17" knob); under mu */
    char (*refused)[PB_ID_STR_LEN + 1];
    size_t nrefused, refused_cap;
    /* the sandbox's own records of payouts (taken or closed), mirrored by the
     * append-only file payouts_fd (keys_dir/sandbox-psp.payouts); under mu */
    payout_record *payouts;
    size_t npayouts, payouts_cap;
    int payouts_fd;
    bool stuck_knobs; /* the 19/23/29/31/37 (and 41) knobs are on */
    /* its books of deposits collected and payouts returned, mirrored by the
     * append-only file settles_fd (keys_dir/sandbox-psp.settlements); under mu */
    settle_record *settles;
    size_t nsettles, settles_cap;
    int settles_fd;
    /* with stuck_knobs: while this file exists, report_fetch fails as a PSP's report
     * service that is down (PSP_UNAVAILABLE): keys_dir/sandbox-psp.report-down */
    char report_down[4096];
} sandbox;

static inline int64_t pb_psp_sandbox_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The delivery thread (arg: the sandbox): delivers sb->queue's confirmations
 * when due, retrying with back-off, until sb->stop. Started by
 * pb_psp_sandbox_new when the server's own URL can be asked for. */
void *pb_psp_sandbox_delivery_thread(void *arg);

/* ---- psp_sandbox_report.c ---- */

/* Reads keys_dir/sandbox-psp.settlements (created 0600 when missing) into sb and
 * keeps it open for appending; -1 with a reason in err. A torn last line is skipped. */
/* The books file dir/name opened for appending into *fd (created 0600 when missing)
 * and, on a second descriptor, for reading from its start (the caller fcloses it);
 * NULL with the reason in err. */
FILE *pb_psp_sandbox_books_open(const char *dir, const char *name, int *fd, char *err,
                                size_t errcap);
int pb_psp_sandbox_settles_load(sandbox *sb, const char *dir, char *err, size_t errcap);
/* Records (appended and synced, then in memory) a deposit collected or a payout
 * returned, once per reference and kind: true when it is recorded (now or before).
 * Takes sb->mu. */
bool pb_psp_sandbox_settle_add(sandbox *sb, bool returned, const char *reference, int64_t amount,
                               const char *currency, int64_t at);
/* The adapter's report_fetch and report_parse (psp.h). */
pb_err pb_psp_sandbox_report_fetch(pb_psp *psp, int64_t from_us, int64_t to_us, pb_psp_report *out,
                                   char *err, size_t errcap);
pb_err pb_psp_sandbox_report_parse(pb_psp *psp, const char *body, size_t len, pb_psp_report *out,
                                   char *err, size_t errcap);

#endif
