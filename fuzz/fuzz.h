/*
 * fuzz.h — what every harness in fuzz/ shares.
 *
 * A harness is one file fuzz/fuzz_<name>.c defining the libFuzzer entry point
 * LLVMFuzzerTestOneInput (and, when it needs set-up such as a key or a temp
 * directory, LLVMFuzzerInitialize). The same file is built twice:
 *   - with clang -fsanitize=fuzzer,address,undefined in build-fuzz: libFuzzer's
 *     own main runs it (scripts/fuzz.sh, fuzz/run-harness.sh);
 *   - with the project's compiler and fuzz/replay.c as main in every build
 *     (build, build-asan): every input of fuzz/corpus/<name>/ — the seeds and
 *     the regression inputs regress-* (each a crash found and fixed) — is
 *     replayed as a TAP test, so a crash once found stays fixed without clang.
 *
 * A property that does not hold is a crash: FUZZ_CHECK prints what failed and
 * aborts, which libFuzzer reports with the input that caused it. Harnesses
 * never touch the network or a shared database; what they need on disk lives
 * in a private temporary directory (fuzz_tmpdir) removed at exit.
 */
#ifndef PB_FUZZ_H
#define PB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts with the failed property and where it is: libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* A NUL-terminated malloc'd copy of n bytes (aborts on OOM: a harness has no
 * better answer). */
static inline char *fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    if (n)
        memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/*
 * Splits an input into fields at the separator byte 0xFF (never valid in
 * UTF-8, so it cannot be confused with text): field i is the i-th run of bytes
 * between separators, the last field runs to the end, separators beyond the
 * max-th field are kept inside it. Returns how many were found (at most max);
 * the fields point into data and are not NUL-terminated. Lets one input carry
 * a header and a body.
 */
static inline size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **f, size_t *flen,
                                size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < max; i++) {
        if (i == size || (data[i] == 0xFF && n + 1 < max)) {
            f[n] = data + start;
            flen[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

/* A private temporary directory for the process (created once, removed at exit). */
const char *fuzz_tmpdir(void);

#endif
