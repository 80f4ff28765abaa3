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

#endif
