/*
 * cpu.c — thread CPU affinity (see cpu.h), over sched_getaffinity /
 * pthread_setaffinity_np on the calling thread.
 */
#include "core/cpu.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>

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
