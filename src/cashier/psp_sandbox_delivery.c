/*
 * psp_sandbox_delivery.c — the sandbox PSP's outgoing webhooks (see
 * psp_sandbox.c for the whole sandbox): the payout confirmations that
 * sb_payout_sent queued are POSTed, signed, to the server's own webhook URL
 * OVER HTTP by the delivery thread, like a real PSP, retrying with back-off
 * (1 s, 2 s, 4 s … 60 s; 12 attempts) while the answer is not 2xx, with the
 * same event id each time. A 4xx other than 408/429 is final (logged).
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cashier/psp_sandbox_internal.h"
#include "core/log.h"
#include "core/time.h"

#define MAX_ATTEMPTS 12
#define MAX_BACKOFF_MS 60000
#define IO_TIMEOUT_S 5
#define WEBHOOK_PATH "/v1/cashier/webhooks/sandbox"

size_t pb_psp_sandbox_pending(pb_psp *psp)
{
    sandbox *sb = psp->ctx;
    pthread_mutex_lock(&sb->mu);
    size_t n = sb->queued;
    pthread_mutex_unlock(&sb->mu);
    return n;
}

/* Splits "http://host:port" (host may be "[v6]") into host and port. */
static bool split_url(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *colon;
    if (*h == '[') {
        const char *end = strchr(h, ']');
        if (!end || end[1] != ':')
            return false;
        snprintf(host, hcap, "%.*s", (int)(end - h - 1), h + 1);
        colon = end + 1;
    } else {
        colon = strrchr(h, ':');
        if (!colon)
            return false;
        snprintf(host, hcap, "%.*s", (int)(colon - h), h);
    }
    snprintf(port, pcap, "%s", colon + 1);
    return *host && *port;
}

/* POSTs a signed body to url + WEBHOOK_PATH: the HTTP status, or 0 when nothing
 * came back (refused, timed out). */
static int http_post(const char *url, const char *body, const char *sig)
{
    char host[128], port[16];
    if (!split_url(url, host, sizeof host, port, sizeof port))
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return 0;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    int status = 0;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        char head[512];
        int hn = snprintf(head, sizeof head,
                          "POST " WEBHOOK_PATH " HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
                          "Content-Type: application/json\r\n" PB_PSP_SANDBOX_HEADER ": %s\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                          strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port,
                          sig, strlen(body));
        if (hn > 0 && (size_t)hn < sizeof head && send(fd, head, (size_t)hn, MSG_NOSIGNAL) == hn &&
            send(fd, body, strlen(body), MSG_NOSIGNAL) == (ssize_t)strlen(body)) {
            char resp[64];
            size_t got = 0;
            ssize_t r;
            while (got < sizeof resp - 1 &&
                   (r = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0)
                got += (size_t)r;
            resp[got] = 0;
            if (strncmp(resp, "HTTP/1.", 7) == 0 && got >= 12)
                status = atoi(resp + 9);
        }
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return status;
}

/* One delivery attempt: true when it is settled (delivered, or refused for good). */
static bool deliver(sandbox *sb, const pending_event *ev)
{
    const char *url = sb->url;
    int64_t now = pb_time_now_us() / 1000000;
    char *body = pb_psp_sandbox_event_body(ev->event_id, ev->type, ev->reference, ev->amount,
                                           ev->currency, now);
    if (!body)
        return false;
    char sig[128];
    pb_psp_sandbox_sign(sb->secret, body, strlen(body), now, sig, sizeof sig);
    int st = http_post(url, body, sig);
    free(body);
    if (st >= 200 && st < 300) {
        pb_log(PB_LOG_INFO, "cashier.sandbox", "payout %s: %s delivered (%s)", ev->reference,
               ev->type, ev->event_id);
        return true;
    }
    if (st >= 400 && st < 500 && st != 408 && st != 429) {
        pb_log(PB_LOG_ERROR, "cashier.sandbox", "payout %s: %s refused with %d, not retried",
               ev->reference, ev->type, st);
        return true;
    }
    return false;
}

void *pb_psp_sandbox_delivery_thread(void *arg)
{
    sandbox *sb = arg;
    pthread_mutex_lock(&sb->mu);
    while (!sb->stop) {
        if (!sb->have_url) {
            /* asked from the start until the server listens (right after start-up) */
            sb->have_url = sb->self_url(sb->self_url_ctx, sb->url, sizeof sb->url);
            if (!sb->have_url) {
                int64_t due = pb_psp_sandbox_mono_ms() + 20;
                struct timespec ts = {.tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000};
                pthread_cond_timedwait(&sb->cv, &sb->mu, &ts);
                continue;
            }
        }
        pending_event **first = NULL;
        for (pending_event **p = &sb->queue; *p; p = &(*p)->next)
            if (!first || (*p)->due_ms < (*first)->due_ms)
                first = p;
        int64_t now = pb_psp_sandbox_mono_ms();
        if (!first || (*first)->due_ms > now) {
            if (!first) {
                pthread_cond_wait(&sb->cv, &sb->mu);
            } else {
                int64_t due = (*first)->due_ms;
                struct timespec ts = {.tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000};
                pthread_cond_timedwait(&sb->cv, &sb->mu, &ts);
            }
            continue;
        }
        pending_event *ev = *first;
        *first = ev->next;
        pthread_mutex_unlock(&sb->mu);
        bool settled = deliver(sb, ev);
        pthread_mutex_lock(&sb->mu);
        if (settled || ++ev->attempts >= MAX_ATTEMPTS) {
            if (!settled)
                pb_log(PB_LOG_ERROR, "cashier.sandbox",
                       "payout %s: %s not delivered after %d attempts (queued again at the "
                       "next start)",
                       ev->reference, ev->type, MAX_ATTEMPTS);
            free(ev);
            sb->queued--;
            continue;
        }
        int64_t backoff = 1000LL << (ev->attempts - 1);
        ev->due_ms = pb_psp_sandbox_mono_ms() +
                     (backoff > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff);
        ev->next = sb->queue;
        sb->queue = ev;
    }
    pthread_mutex_unlock(&sb->mu);
    return NULL;
}
