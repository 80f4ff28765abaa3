/*
 * cpu.h — which CPUs a thread runs on.
 *
 * The ledger's writer is the one thread every money movement passes through;
 * on a small machine it loses a good share of its time to being preempted by
 * the threads it serves (each caller woken on its CPU takes it over for a
 * moment) and to the inter-processor interrupts those wake-ups cost in a VM.
 * Giving the writer a CPU of its own — pinned there, every other busy thread
 * kept off it — removes both. These helpers do the pinning; who pins what is
 * the ledger's and the commands' decision (see pb_ledger_config.pin_writer).
 */
#ifndef PB_CORE_CPU_H
#define PB_CORE_CPU_H

#include <sched.h>
#include <stdint.h>

/* The number of CPUs the calling thread may run on (≥ 1). */
int pb_cpu_allowed_count(void);
/* The highest-numbered CPU the calling thread may run on, or -1 if unknown. */
int pb_cpu_last_allowed(void);
/* The allowed CPU that has handled the fewest device interrupts — the numbered
 * lines of /proc/interrupts (disk and network queues), not the local timer or
 * the inter-processor ones, which follow the threads — ties going to the
 * highest-numbered; the last allowed CPU when the file cannot be read or names
 * none of them, -1 if even that is unknown. In a VM the disk's completions
 * usually all land on one CPU; a writer pinned there pays for every completion
 * of its own fsyncs in interrupt time, on the thread everything waits for. */
int pb_cpu_quietest_allowed(void);
/* The same choice over `text` in /proc/interrupts' format (a header of CPUn
 * columns, then "IRQ: count count … name" lines) among the CPUs in `allowed`;
 * -1 when the text names none of them. */
int pb_cpu_quietest_in(const char *text, const cpu_set_t *allowed);
/* Pins the calling thread to `cpu`. 0, or -1 with errno set (EINVAL: no such CPU
 * or not allowed to this process). */
int pb_cpu_pin(int cpu);
/* Removes `cpu` from the calling thread's allowed set (threads it creates from
 * now on inherit the result). Does nothing and returns 0 when cpu < 0 or when
 * `cpu` is the only CPU left; -1 with errno on failure. */
int pb_cpu_avoid(int cpu);

/*
 * The machine's CPU time, for the benchmarks: what share of it the run kept busy,
 * and what share a hypervisor took away (steal: time a virtual CPU wanted to run
 * and the host ran something else). On a shared VM the steal explains figures that
 * the code alone does not, so the benchmarks print it beside their results.
 * Counters are the first line of /proc/stat, in clock ticks since boot.
 *
 * Busy time is what remains of the elapsed time (every online CPU's) once idle,
 * iowait and steal are taken off, not the sum of the busy counters: on a tickless
 * kernel idle is accounted exactly, but busy time only at timer ticks, and work in
 * bursts shorter than a tick (a wallet call at 1,000 calls/s) is missed by them
 * (here the counters added up to ~90% of the elapsed ticks at that load).
 */
typedef struct pb_cpu_times {
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
    int64_t at_us; /* CLOCK_MONOTONIC when read */
    int ncpu;      /* CPUs online */
    long hz;       /* clock ticks per second (USER_HZ) */
} pb_cpu_times;

/* Parses the aggregate "cpu  user nice system idle iowait irq softirq steal …"
 * line of /proc/stat text into the counters (older kernels' shorter lines leave
 * the rest 0; at_us, ncpu and hz are left 0). 0, or -1 when there is no such line. */
int pb_cpu_times_parse(const char *text, pb_cpu_times *out);
/* Reads /proc/stat, the clock and the CPU count. 0, or -1 (out zeroed) when
 * they cannot be read. */
int pb_cpu_times_read(pb_cpu_times *out);

/* Shares of the machine's CPU time between two readings, in percent of all of it
 * (elapsed time × CPUs): idle, iowait, steal and busy (the rest). All 0 when no
 * time passed, the CPU count or tick rate differ, or a counter went backwards. */
typedef struct pb_cpu_share {
    double busy_pct, idle_pct, iowait_pct, steal_pct;
} pb_cpu_share;
pb_cpu_share pb_cpu_times_share(const pb_cpu_times *before, const pb_cpu_times *after);

#endif
