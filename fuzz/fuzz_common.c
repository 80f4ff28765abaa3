/*
 * fuzz_common.c — the shared helpers of fuzz.h that need a body: the private
 * temporary directory that harnesses needing files (keys, secrets) use.
 */
#include "fuzz.h"

#include <ftw.h>
#include <unistd.h>

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/pbfuzz.XXXXXX",
                 base && *base && strlen(base) < 40 ? base : "/tmp");
        FUZZ_CHECK(mkdtemp(tmpdir) != NULL);
        atexit(rm_tmpdir);
    }
    return tmpdir;
}
