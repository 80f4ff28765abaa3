/*
 * cpu.c — thread CPU affinity (see cpu.h), over sched_getaffinity /
 * pthread_setaffinity_np on the calling thread, and the choice of the CPU with
 * the fewest device interrupts from /proc/interrupts.
 */
#include "core/cpu.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int allowed(cpu_set_t *set)
{
    CPU_ZERO(set);
    return sched_getaffinity(0, sizeof *set, set);
}

int pb_cpu_allowed_count(void)
{
    cpu_set_t set;
    if (allowed(&set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

int pb_cpu_last_allowed(void)
{
    cpu_set_t set;
    if (allowed(&set) != 0)
        return -1;
    for (int c = CPU_SETSIZE - 1; c >= 0; c--)
        if (CPU_ISSET(c, &set))
            return c;
    return -1;
}

int pb_cpu_pin(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int pb_cpu_avoid(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return 0;
    cpu_set_t set;
    if (allowed(&set) != 0)
        return -1;
    if (!CPU_ISSET(cpu, &set))
        return 0;
    CPU_CLR(cpu, &set);
    if (CPU_COUNT(&set) == 0)
        return 0;
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* Parses the header's "CPU<n>" columns into cpu[] (at most max); the count. */
static int header_columns(const char *line, const char *end, int *cpu, int max)
{
    int n = 0;
    for (const char *p = line; p < end && n < max;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (end - p < 4 || memcmp(p, "CPU", 3) != 0 || !isdigit((unsigned char)p[3]))
            break;
        cpu[n++] = (int)strtol(p + 3, NULL, 10);
        p += 3;
        while (p < end && isdigit((unsigned char)*p))
            p++;
    }
    return n;
}

int pb_cpu_quietest_in(const char *text, const cpu_set_t *allowed)
{
    enum { MAXCOL = 1024 };
    int cpu[MAXCOL];
    uint64_t count[MAXCOL];
    const char *nl = strchr(text, '\n');
    if (!nl)
        return -1;
    int ncol = header_columns(text, nl, cpu, MAXCOL);
    if (ncol == 0)
        return -1;
    memset(count, 0, sizeof count[0] * (size_t)ncol);
    for (const char *line = nl + 1; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *p = line;
        while (p < end && isspace((unsigned char)*p))
            p++;
        const char *irq = p;
        while (p < end && isdigit((unsigned char)*p))
            p++;
        /* device interrupts only: "36:", not "LOC:" / "RES:" / "CAL:" */
        if (p > irq && p < end && *p == ':') {
            p++;
            for (int c = 0; c < ncol; c++) {
                while (p < end && isspace((unsigned char)*p))
                    p++;
                if (p == end || !isdigit((unsigned char)*p))
                    break;
                char *after;
                unsigned long long v = strtoull(p, &after, 10);
                count[c] += v;
                p = after;
            }
        }
        if (!nl)
            break;
    }
    int best = -1;
    uint64_t least = 0;
    for (int c = 0; c < ncol; c++) {
        if (cpu[c] < 0 || cpu[c] >= CPU_SETSIZE || !CPU_ISSET(cpu[c], allowed))
            continue;
        if (best < 0 || count[c] < least || (count[c] == least && cpu[c] > best)) {
            best = cpu[c];
            least = count[c];
        }
    }
    return best;
}

int pb_cpu_quietest_allowed(void)
{
    cpu_set_t set;
    if (allowed(&set) != 0)
        return -1;
    int last = pb_cpu_last_allowed();
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f)
        return last;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - 1 - len, f);
        if (len < cap - 1 || ferror(f))
            break;
        char *bigger = realloc(text, cap * 2);
        if (!bigger) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        cap *= 2;
    }
    fclose(f);
    if (!text)
        return last;
    text[len] = '\0';
    int best = pb_cpu_quietest_in(text, &set);
    free(text);
    return best >= 0 ? best : last;
}

int pb_cpu_times_parse(const char *text, pb_cpu_times *out)
{
    *out = (pb_cpu_times){0};
    for (const char *line = text; line && *line;) {
        if (strncmp(line, "cpu ", 4) == 0) {
            unsigned long long v[8] = {0};
            int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                           &v[3], &v[4], &v[5], &v[6], &v[7]);
            if (n < 4)
                return -1;
            *out = (pb_cpu_times){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
            return 0;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

int pb_cpu_times_read(pb_cpu_times *out)
{
    *out = (pb_cpu_times){0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[512]; /* the aggregate line comes first */
    int rc = fgets(line, sizeof line, f) ? pb_cpu_times_parse(line, out) : -1;
    fclose(f);
    struct timespec ts;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN), hz = sysconf(_SC_CLK_TCK);
    if (rc != 0 || clock_gettime(CLOCK_MONOTONIC, &ts) != 0 || ncpu < 1 || hz < 1) {
        *out = (pb_cpu_times){0};
        return -1;
    }
    out->at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    out->ncpu = (int)ncpu;
    out->hz = hz;
    return 0;
}

pb_cpu_share pb_cpu_times_share(const pb_cpu_times *a, const pb_cpu_times *b)
{
    const unsigned long long x[8] = {a->user,   a->nice, a->system,  a->idle,
                                     a->iowait, a->irq,  a->softirq, a->steal};
    const unsigned long long y[8] = {b->user,   b->nice, b->system,  b->idle,
                                     b->iowait, b->irq,  b->softirq, b->steal};
    if (b->at_us <= a->at_us || a->ncpu < 1 || a->ncpu != b->ncpu || a->hz < 1 || a->hz != b->hz)
        return (pb_cpu_share){0};
    for (int i = 0; i < 8; i++)
        if (y[i] < x[i])
            return (pb_cpu_share){0};
    double ticks = (double)(b->at_us - a->at_us) / 1e6 * (double)a->ncpu * (double)a->hz;
    pb_cpu_share s = {.idle_pct = 100.0 * (double)(y[3] - x[3]) / ticks,
                      .iowait_pct = 100.0 * (double)(y[4] - x[4]) / ticks,
                      .steal_pct = 100.0 * (double)(y[7] - x[7]) / ticks};
    /* the counters move in whole ticks: over a short interval they may add up to a
     * little more than the time that passed */
    double rest = 100.0 - s.idle_pct - s.iowait_pct - s.steal_pct;
    s.busy_pct = rest > 0 ? rest : 0;
    return s;
}
