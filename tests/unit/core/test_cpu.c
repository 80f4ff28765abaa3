/*
 * test_cpu.c — thread CPU affinity helpers (src/core/cpu.h): pinning runs the
 * thread where asked, avoiding removes exactly one CPU and never the last one,
 * bad CPUs are refused, and the quietest CPU is read right from
 * /proc/interrupts-format text. Each case runs in a thread of its own so the test
 * process's main thread keeps its CPUs.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/cpu.h"

static cpu_set_t mine(void)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    assert_int_equal(sched_getaffinity(0, sizeof s, &s), 0);
    return s;
}

static void run_in_thread(void *(*fn)(void *))
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void *counts_body(void *arg)
{
    (void)arg;
    cpu_set_t s = mine();
    assert_int_equal(pb_cpu_allowed_count(), CPU_COUNT(&s));
    int last = pb_cpu_last_allowed();
    assert_true(last >= 0);
    assert_true(CPU_ISSET(last, &s));
    for (int c = last + 1; c < CPU_SETSIZE; c++)
        assert_false(CPU_ISSET(c, &s));
    return NULL;
}

static void counts_and_last(void **state)
{
    (void)state;
    run_in_thread(counts_body);
}

static void *pin_body(void *arg)
{
    (void)arg;
    int last = pb_cpu_last_allowed();
    assert_int_equal(pb_cpu_pin(last), 0);
    cpu_set_t s = mine();
    assert_int_equal(CPU_COUNT(&s), 1);
    assert_true(CPU_ISSET(last, &s));
    assert_int_equal(sched_getcpu(), last); /* the migration happens before the call returns */
    assert_int_equal(pb_cpu_allowed_count(), 1);
    /* avoiding the only CPU left changes nothing */
    assert_int_equal(pb_cpu_avoid(last), 0);
    s = mine();
    assert_int_equal(CPU_COUNT(&s), 1);
    assert_true(CPU_ISSET(last, &s));
    return NULL;
}

static void pin_runs_there(void **state)
{
    (void)state;
    run_in_thread(pin_body);
}

static void *avoid_body(void *arg)
{
    (void)arg;
    cpu_set_t before = mine();
    int last = pb_cpu_last_allowed();
    assert_int_equal(pb_cpu_avoid(-1), 0); /* "no CPU": nothing to avoid */
    cpu_set_t same = mine();
    assert_true(CPU_EQUAL(&before, &same));
    assert_int_equal(pb_cpu_avoid(last), 0);
    cpu_set_t after = mine();
    if (CPU_COUNT(&before) == 1) { /* a one-CPU machine: the thread keeps it */
        assert_true(CPU_EQUAL(&before, &after));
        return NULL;
    }
    assert_int_equal(CPU_COUNT(&after), CPU_COUNT(&before) - 1);
    assert_false(CPU_ISSET(last, &after));
    assert_int_not_equal(sched_getcpu(), last);
    assert_int_equal(pb_cpu_avoid(last), 0); /* again: already off it */
    cpu_set_t again = mine();
    assert_true(CPU_EQUAL(&after, &again));
    return NULL;
}

static void avoid_removes_one(void **state)
{
    (void)state;
    run_in_thread(avoid_body);
}

static void *bad_body(void *arg)
{
    (void)arg;
    cpu_set_t before = mine();
    errno = 0;
    assert_int_equal(pb_cpu_pin(-1), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(pb_cpu_pin(CPU_SETSIZE), -1);
    assert_int_equal(errno, EINVAL);
    /* a CPU this machine does not have (beyond the last online one) */
    errno = 0;
    assert_int_equal(pb_cpu_pin(CPU_SETSIZE - 1), -1);
    assert_int_equal(errno, EINVAL);
    cpu_set_t after = mine();
    assert_true(CPU_EQUAL(&before, &after)); /* a refused pin changes nothing */
    return NULL;
}

static void bad_cpus_refused(void **state)
{
    (void)state;
    run_in_thread(bad_body);
}

static cpu_set_t cpus(int a, int b)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    if (a >= 0)
        CPU_SET(a, &s);
    if (b >= 0)
        CPU_SET(b, &s);
    return s;
}

/* The CPU with the fewest device interrupts, from texts in /proc/interrupts' format. */
static void quietest_from_text(void **state)
{
    (void)state;
    /* this VM's shape: the disk's queue all on CPU1; LOC/RES/CAL are not counted
     * (CPU0's huge RES must not make it look busy) */
    const char *vm =
        "           CPU0       CPU1       \n"
        " 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n"
        " 36:          0   37704855 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n"
        " 39:      42315          0 PCI-MSIX-0000:00:03.0   2-edge      virtio2-output.0\n"
        " 42:          0      93294 PCI-MSIX-0000:00:04.0   2-edge      virtio3-tx\n"
        "LOC:    8108912    8044724   Local timer interrupts\n"
        "RES:   91250840    7050387   Rescheduling interrupts\n"
        "ERR:          0\n";
    cpu_set_t both = cpus(0, 1);
    assert_int_equal(pb_cpu_quietest_in(vm, &both), 0);
    cpu_set_t one = cpus(1, -1); /* only CPU1 allowed: that one, however busy */
    assert_int_equal(pb_cpu_quietest_in(vm, &one), 1);
    /* ties go to the highest-numbered allowed CPU (the old choice, the last one) */
    const char *tie = "    CPU0 CPU1 CPU2\n  1: 5 5 5 dev\n  2: 1 1 1 dev2\n";
    cpu_set_t three = cpus(0, 1);
    CPU_SET(2, &three);
    assert_int_equal(pb_cpu_quietest_in(tie, &three), 2);
    cpu_set_t low = cpus(0, 1);
    assert_int_equal(pb_cpu_quietest_in(tie, &low), 1);
    /* columns name the online CPUs, which need not be 0..n-1; a short line (an
     * interrupt with fewer columns) counts what it has */
    const char *gaps = "       CPU0   CPU3\n  9:   100    2 dev\n 10: 7\n";
    cpu_set_t g = cpus(0, 3);
    assert_int_equal(pb_cpu_quietest_in(gaps, &g), 3);
    /* no allowed CPU among the columns, no header, no newline: -1 */
    cpu_set_t other = cpus(5, -1);
    assert_int_equal(pb_cpu_quietest_in(vm, &other), -1);
    assert_int_equal(pb_cpu_quietest_in("  1: 2 3\n", &both), -1);
    assert_int_equal(pb_cpu_quietest_in("", &both), -1);
}

static void *quietest_body(void *arg)
{
    (void)arg;
    cpu_set_t s = mine();
    int q = pb_cpu_quietest_allowed();
    assert_true(q >= 0);
    assert_true(CPU_ISSET(q, &s)); /* always one this thread may use */
    return NULL;
}

/* On this machine (whatever /proc/interrupts says): an allowed CPU. */
static void quietest_is_allowed(void **state)
{
    (void)state;
    run_in_thread(quietest_body);
}

/* The aggregate line of /proc/stat, and the shares between two readings. */
static void cpu_times_from_text(void **state)
{
    (void)state;
    pb_cpu_times a, b;
    /* the per-CPU lines and the rest of the file are not the aggregate */
    const char *t0 = "cpu  100 10 50 800 20 5 15 0 0 0\n"
                     "cpu0 50 5 25 400 10 2 7 0 0 0\n"
                     "intr 123 4 5\n";
    assert_int_equal(pb_cpu_times_parse(t0, &a), 0);
    assert_true(a.user == 100 && a.nice == 10 && a.system == 50 && a.idle == 800);
    assert_true(a.iowait == 20 && a.irq == 5 && a.softirq == 15 && a.steal == 0);
    assert_true(a.at_us == 0 && a.ncpu == 0 && a.hz == 0);
    /* 5 s later on 2 CPUs at 100 ticks/s (1,000 ticks): 100 iowait, 50 stolen,
     * 550 idle, so 300 busy, whatever the busy counters say (they add up to 240
     * here: a tickless kernel misses short bursts) */
    const char *t1 = "cpu  260 10 90 1350 120 15 55 50 0 0\n";
    assert_int_equal(pb_cpu_times_parse(t1, &b), 0);
    a.at_us = 1000000, b.at_us = 6000000;
    a.ncpu = b.ncpu = 2;
    a.hz = b.hz = 100;
    pb_cpu_share sh = pb_cpu_times_share(&a, &b);
    assert_true(sh.idle_pct > 54.99 && sh.idle_pct < 55.01);
    assert_true(sh.iowait_pct > 9.99 && sh.iowait_pct < 10.01);
    assert_true(sh.steal_pct > 4.99 && sh.steal_pct < 5.01);
    assert_true(sh.busy_pct > 29.99 && sh.busy_pct < 30.01);
    /* counters a tick ahead of the clock: busy is never below 0 */
    b.at_us = a.at_us + 2740000; /* 548 ticks' time, 550 idle counted */
    sh = pb_cpu_times_share(&a, &b);
    assert_true(sh.busy_pct == 0 && sh.idle_pct > 100);
    b.at_us = 6000000;
    /* no time between them, a counter that went back (a wrap), another CPU count or
     * tick rate: nothing to say, all 0 */
    pb_cpu_times c = a;
    sh = pb_cpu_times_share(&a, &c);
    assert_true(sh.busy_pct == 0 && sh.idle_pct == 0 && sh.steal_pct == 0);
    c = b;
    c.idle = a.idle - 1; /* went back */
    sh = pb_cpu_times_share(&a, &c);
    assert_true(sh.busy_pct == 0 && sh.idle_pct == 0);
    c = b;
    c.ncpu = 4;
    sh = pb_cpu_times_share(&a, &c);
    assert_true(sh.busy_pct == 0 && sh.idle_pct == 0);
    c = b;
    c.hz = 250;
    sh = pb_cpu_times_share(&a, &c);
    assert_true(sh.busy_pct == 0 && sh.idle_pct == 0);
    /* an old kernel's line of four counters: the rest 0 */
    assert_int_equal(pb_cpu_times_parse("cpu 1 2 3 4\n", &a), 0);
    assert_true(a.idle == 4 && a.iowait == 0 && a.steal == 0);
    /* no aggregate line, or too short a one */
    assert_int_equal(pb_cpu_times_parse("cpu0 1 2 3 4\n", &a), -1);
    assert_int_equal(pb_cpu_times_parse("cpu 1 2\n", &a), -1);
    assert_int_equal(pb_cpu_times_parse("", &a), -1);
}

/* This machine's readings: a thread that spins shows as busy time. */
static void cpu_times_of_this_machine(void **state)
{
    (void)state;
    pb_cpu_times a, b;
    assert_int_equal(pb_cpu_times_read(&a), 0);
    assert_true(a.ncpu >= 1 && a.hz >= 1 && a.at_us > 0);
    assert_true(a.user + a.system + a.idle > 0);
    /* spin for 200 ms: one CPU busy all along */
    volatile unsigned long long spin = 0;
    do {
        for (int i = 0; i < 100000; i++)
            spin += (unsigned long long)i;
        assert_int_equal(pb_cpu_times_read(&b), 0);
    } while (b.at_us - a.at_us < 200000);
    pb_cpu_share sh = pb_cpu_times_share(&a, &b);
    /* this thread's CPU, 1/ncpu of the machine's time (less what a hypervisor
     * stole), was not idle; a tick's rounding on either side allowed */
    double tick_pct = 100.0 / ((double)(b.at_us - a.at_us) / 1e6 * a.hz * a.ncpu);
    assert_true(sh.busy_pct + sh.steal_pct + 2 * tick_pct >= 100.0 / a.ncpu);
    assert_true(sh.busy_pct <= 100 && sh.idle_pct >= 0 && sh.steal_pct >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_and_last),     cmocka_unit_test(pin_runs_there),
        cmocka_unit_test(avoid_removes_one),   cmocka_unit_test(bad_cpus_refused),
        cmocka_unit_test(quietest_from_text),  cmocka_unit_test(quietest_is_allowed),
        cmocka_unit_test(cpu_times_from_text), cmocka_unit_test(cpu_times_of_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
