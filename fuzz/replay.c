/*
 * replay.c — a main() for a harness outside libFuzzer: runs every file of the
 * directories (or files) given as arguments through LLVMFuzzerTestOneInput
 * once, and prints TAP, one case per argument:
 *     ok 1 - fuzz/corpus/money: 14 inputs
 * A property that fails aborts (FUZZ_CHECK), so the missing cases count as
 * failed; a missing directory is a failed case (a corpus must not vanish
 * silently), an empty one passes. Linked with each harness in every build, so
 * the seed corpora and the regression inputs run in `make test` with gcc,
 * ASan and UBSan even where clang is absent.
 */
#include "fuzz.h"

#include <dirent.h>
#include <sys/stat.h>

/* Weak: most harnesses need no set-up. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

/* Runs one file; -1 when it cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    FUZZ_CHECK(buf != NULL);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            uint8_t *grown = realloc(buf, cap);
            FUZZ_CHECK(grown != NULL);
            buf = grown;
        }
    }
    fclose(f);
    /* an exact-size copy, so that ASan sees a read one byte past the input */
    uint8_t *exact = malloc(len ? len : 1);
    FUZZ_CHECK(exact != NULL);
    memcpy(exact, buf, len);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir in name order; the count, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            FUZZ_CHECK(grown != NULL);
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    long count = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) != 0)
                count = -1;
            else if (count >= 0)
                count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    printf("1..%d\n", argc - 1);
    fflush(stdout);
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n = -1;
        if (stat(argv[i], &st) == 0)
            n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0) {
            printf("not ok %d - %s: missing or unreadable\n", i, argv[i]);
            failed = 1;
        } else {
            printf("ok %d - %s: %ld inputs\n", i, argv[i], n);
        }
        fflush(stdout);
    }
    return failed;
}
