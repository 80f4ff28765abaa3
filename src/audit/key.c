/*
 * key.c — the checkpoint signing key: an Ed25519 key pair whose 32-byte seed
 * lives, as 64 hex digits and a newline, in KEYS_DIR/audit-ed25519.key.
 *
 * The file must be a regular file that only its owner can read, like an SSH
 * private key; a key that others could read is refused rather than used. A new
 * key is written to a temporary file in the same directory, synced, and linked
 * into place: link(2) fails if the name exists, so two processes creating the
 * key at once agree on one, and a reader never sees a half-written file. The
 * key pair is held in libsodium's guarded, locked memory and wiped when freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_internal.h"

struct pb_audit_key {
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    pb_audit_pubkey pk;
    char id[PB_AUDIT_KEY_ID_LEN + 1];
};

void pb_audit_pubkey_id(const pb_audit_pubkey *pk, char out[PB_AUDIT_KEY_ID_LEN + 1])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk->b, sizeof pk->b);
    pb_audit_hex(h, PB_AUDIT_KEY_ID_LEN / 2, out);
}

void pb_audit_pubkey_hex(const pb_audit_pubkey *pk, char out[65]) { pb_audit_hex(pk->b, 32, out); }

int pb_audit_pubkey_parse(const char *hex, pb_audit_pubkey *out)
{
    size_t len = 0;
    const char *end = NULL;
    if (!hex || strlen(hex) != 64 ||
        sodium_hex2bin(out->b, sizeof out->b, hex, 64, NULL, &len, &end) != 0 || len != 32)
        return -1;
    return 0;
}

const pb_audit_pubkey *pb_audit_key_public(const pb_audit_key *k) { return &k->pk; }
const char *pb_audit_key_id(const pb_audit_key *k) { return k->id; }

void pb_audit_key_sign(const pb_audit_key *k, const uint8_t *msg, size_t n, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg, n, k->sk);
}

void pb_audit_key_free(pb_audit_key *k)
{
    if (k)
        sodium_free(k); /* wipes the memory */
}

/* A key pair from its seed, in guarded memory; NULL when out of memory. */
static pb_audit_key *key_from_seed(const uint8_t seed[crypto_sign_SEEDBYTES])
{
    pb_audit_key *k = sodium_malloc(sizeof *k);
    if (!k)
        return NULL;
    crypto_sign_seed_keypair(k->pk.b, k->sk, seed);
    pb_audit_pubkey_id(&k->pk, k->id);
    return k;
}

/* "DIR/NAME" into out; false when it does not fit. */
static bool join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

/* Reads the key file at path. PB_OK; AUDIT_KEY_MISSING with errno ENOENT when
 * absent (so load_or_create can tell), or with a reason in err. */
static pb_err read_key_file(const char *path, pb_audit_key **out, int *missing, char *err,
                            size_t errcap)
{
    *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT;
        snprintf(err, errcap, "cannot open the audit signing key %s: %s", path, strerror(errno));
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    struct stat sb;
    char buf[160];
    ssize_t n = -1;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errcap, "the audit signing key %s is not a regular file", path);
    } else if (sb.st_mode & 077) {
        snprintf(err, errcap,
                 "the audit signing key %s has mode %04o: others can read it; "
                 "run chmod 600 on it",
                 path, (unsigned)(sb.st_mode & 07777));
    } else {
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
            snprintf(err, errcap, "cannot read the audit signing key %s: %s", path,
                     strerror(errno));
    }
    close(fd);
    if (n < 0)
        return PB_ERR_AUDIT_KEY_MISSING;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = 0;
    uint8_t seed[crypto_sign_SEEDBYTES];
    size_t len = 0;
    pb_err e = PB_OK;
    if (n != 2 * crypto_sign_SEEDBYTES ||
        sodium_hex2bin(seed, sizeof seed, buf, (size_t)n, NULL, &len, NULL) != 0 ||
        len != sizeof seed) {
        snprintf(err, errcap,
                 "the audit signing key %s is malformed: expected 64 hex digits (an Ed25519 seed)",
                 path);
        e = PB_ERR_AUDIT_KEY_MISSING;
    } else if (!(*out = key_from_seed(seed))) {
        snprintf(err, errcap, "out of memory for the audit signing key");
        e = PB_ERR_INTERNAL;
    }
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(seed, sizeof seed);
    return e;
}

pb_err pb_audit_key_load(const char *dir, pb_audit_key **out, char *err, size_t errcap)
{
    char path[4096];
    int missing;
    *out = NULL;
    pb_audit_sodium_init();
    if (!dir || !*dir || !join(path, sizeof path, dir, PB_AUDIT_KEY_FILE)) {
        snprintf(err, errcap, "no keys directory is configured");
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    return read_key_file(path, out, &missing, err, errcap);
}

/* Writes a new random seed to a temporary file in dir and links it to path
 * (replace: renames it over path, whose key is then gone). PB_OK when linked;
 * PB_OK with *raced when another process linked first; AUDIT_KEY_MISSING with
 * the reason otherwise. */
static pb_err create_key_file(const char *dir, const char *path, bool replace, bool *raced,
                              char *err, size_t errcap)
{
    char tmp[4096];
    *raced = false;
    if (!join(tmp, sizeof tmp, dir, "." PB_AUDIT_KEY_FILE ".XXXXXX")) {
        snprintf(err, errcap, "keys directory path too long");
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "cannot create the keys directory %s: %s", dir, strerror(errno));
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        snprintf(err, errcap, "cannot create a key file in %s: %s", dir, strerror(errno));
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    uint8_t seed[crypto_sign_SEEDBYTES];
    char text[2 * sizeof seed + 2];
    randombytes_buf(seed, sizeof seed);
    sodium_bin2hex(text, sizeof text, seed, sizeof seed);
    text[2 * sizeof seed] = '\n';
    bool ok = fchmod(fd, 0600) == 0 &&
              write(fd, text, 2 * sizeof seed + 1) == (ssize_t)(2 * sizeof seed + 1) &&
              fsync(fd) == 0;
    int saved = errno;
    close(fd);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(text, sizeof text);
    pb_err e = PB_OK;
    if (!ok) {
        snprintf(err, errcap, "cannot write the key file in %s: %s", dir, strerror(saved));
        e = PB_ERR_AUDIT_KEY_MISSING;
    } else if (replace) {
        if (rename(tmp, path) != 0) {
            snprintf(err, errcap, "cannot install the key file %s: %s", path, strerror(errno));
            e = PB_ERR_AUDIT_KEY_MISSING;
        }
    } else if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            *raced = true;
        } else {
            snprintf(err, errcap, "cannot install the key file %s: %s", path, strerror(errno));
            e = PB_ERR_AUDIT_KEY_MISSING;
        }
    }
    unlink(tmp);
    if (e == PB_OK && !*raced) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { /* make the new name durable */
            fsync(dfd);
            close(dfd);
        }
    }
    return e;
}

pb_err pb_audit_key_load_or_create(const char *dir, pb_audit_key **out, bool *created, char *err,
                                   size_t errcap)
{
    char path[4096];
    int missing;
    bool raced;
    *out = NULL;
    if (created)
        *created = false;
    pb_audit_sodium_init();
    if (!dir || !*dir || !join(path, sizeof path, dir, PB_AUDIT_KEY_FILE)) {
        snprintf(err, errcap, "no keys directory is configured");
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    pb_err e = read_key_file(path, out, &missing, err, errcap);
    if (e == PB_OK || !missing)
        return e;
    e = create_key_file(dir, path, false, &raced, err, errcap);
    if (e != PB_OK)
        return e;
    if (created)
        *created = !raced;
    return read_key_file(path, out, &missing, err, errcap);
}

/* ---- rotation: the retired keys ---- */

/* Syncs the directory dir (a new or renamed name in it made durable). */
static void sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

pb_err pb_audit_trust_load(const char *dir, pb_audit_trust *out, size_t cap, size_t *n,
                           bool *have_key, char *err, size_t errcap)
{
    char path[4096];
    *have_key = false;
    pb_audit_key *k = NULL;
    if (pb_audit_key_load(dir, &k, err, errcap) == PB_OK) {
        if (*n >= cap) {
            pb_audit_key_free(k);
            snprintf(err, errcap, "more than %zu trusted audit keys (at most %d)", cap,
                     PB_AUDIT_TRUST_MAX);
            return PB_ERR_AUDIT_KEY_MISSING;
        }
        out[(*n)++] = (pb_audit_trust){.pk = *pb_audit_key_public(k), .upto_max = INT64_MAX};
        *have_key = true;
        pb_audit_key_free(k);
    }
    if (!dir || !*dir || !join(path, sizeof path, dir, PB_AUDIT_RETIRED_FILE))
        return PB_OK;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return PB_OK;
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
        return PB_ERR_INTERNAL;
    }
    char line[256];
    int lineno = 0;
    pb_err e = PB_OK;
    while (e == PB_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (!len || line[0] == '#')
            continue;
        char hex[65];
        long long upto = -1;
        char tail;
        pb_audit_trust t;
        if (len > 200 || sscanf(line, "%64s %lld %c", hex, &upto, &tail) != 2 || upto < 0 ||
            pb_audit_pubkey_parse(hex, &t.pk) != 0) {
            snprintf(err, errcap, "%s line %d is not \"<64 hex digits> <seq>\"", path, lineno);
            e = PB_ERR_AUDIT_KEY_MISSING;
            break;
        }
        t.upto_max = upto;
        bool in_use = false; /* a rotation stopped before its rename: the key is still in use */
        for (size_t i = 0; i < *n; i++)
            if (out[i].upto_max == INT64_MAX && sodium_memcmp(out[i].pk.b, t.pk.b, 32) == 0)
                in_use = true;
        if (in_use)
            continue;
        if (*n >= cap) {
            snprintf(err, errcap,
                     "%s: more than %zu trusted audit keys (at most %d: the key in use, the "
                     "retired ones and any --trust-key); no key of it is trusted",
                     path, cap, PB_AUDIT_TRUST_MAX);
            e = PB_ERR_AUDIT_KEY_MISSING;
            break;
        }
        out[(*n)++] = t;
    }
    if (e == PB_OK && ferror(f)) {
        snprintf(err, errcap, "cannot read %s", path);
        e = PB_ERR_INTERNAL;
    }
    fclose(f);
    return e;
}

/* Appends "<hex> <seq>" for pk to the retired list in dir, durably. */
static pb_err retire(const char *dir, const pb_audit_pubkey *pk, int64_t upto, char *err,
                     size_t errcap)
{
    char path[4096], hex[65], line[128];
    if (!join(path, sizeof path, dir, PB_AUDIT_RETIRED_FILE)) {
        snprintf(err, errcap, "keys directory path too long");
        return PB_ERR_AUDIT_KEY_MISSING;
    }
    pb_audit_pubkey_hex(pk, hex);
    int len = snprintf(line, sizeof line, "%s %lld\n", hex, (long long)upto);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write(fd, line, (size_t)len) == len && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        snprintf(err, errcap, "cannot append to %s: %s", path, strerror(saved));
        return PB_ERR_INTERNAL;
    }
    sync_dir(dir);
    return PB_OK;
}

pb_err pb_audit_key_rotate(pb_store_conn *c, const char *dir, int64_t now, pb_audit_pubkey *old_out,
                           pb_audit_pubkey *new_out, int64_t *head, char *err, size_t errcap)
{
    char path[4096];
    pb_audit_key *old = NULL, *fresh = NULL;
    pb_audit_checkpoint_record cp;
    bool raced;
    *head = 0;
    pb_err e = pb_audit_key_load(dir, &old, err, errcap);
    if (e != PB_OK)
        return e;
    if (!join(path, sizeof path, dir, PB_AUDIT_KEY_FILE)) {
        snprintf(err, errcap, "keys directory path too long");
        e = PB_ERR_AUDIT_KEY_MISSING;
        goto out;
    }
    *old_out = *pb_audit_key_public(old);
    /* one more retired key must still fit the trust list every verifier loads (the key
     * in use and the retired ones, PB_AUDIT_TRUST_MAX): past it each of them (serve,
     * verify, backup, restore) would refuse the list; and a malformed list is said now */
    pb_audit_trust *trust = calloc(PB_AUDIT_TRUST_MAX, sizeof *trust);
    size_t ntrust = 0;
    bool have_key;
    if (!trust) {
        snprintf(err, errcap, "out of memory");
        e = PB_ERR_INTERNAL;
        goto out;
    }
    e = pb_audit_trust_load(dir, trust, PB_AUDIT_TRUST_MAX, &ntrust, &have_key, err, errcap);
    free(trust);
    if (e != PB_OK)
        goto out;
    if (ntrust >= PB_AUDIT_TRUST_MAX) {
        snprintf(err, errcap,
                 "%s/%s lists %zu retired keys: with the key in use that is the limit of %d "
                 "trusted audit keys, and one more would make every verifier refuse the list",
                 dir, PB_AUDIT_RETIRED_FILE, ntrust - 1, PB_AUDIT_TRUST_MAX);
        e = PB_ERR_AUDIT_KEY_MISSING;
        goto out;
    }
    /* the chain as it stands, signed with the key being retired: its bound */
    if ((e = pb_audit_checkpoint(c, old, now, &cp, NULL)) != PB_OK) {
        snprintf(err, errcap, "the last checkpoint with the old key failed: %s", pb_err_message(e));
        goto out;
    }
    *head = cp.id ? cp.upto_seq : 0;
    if (cp.id && memcmp(cp.public_key, old_out->b, 32) != 0) {
        /* the head's checkpoint is another key's (written by a server still using
         * it?): bounding the old key there would leave the head unsigned by it */
        snprintf(err, errcap,
                 "the newest checkpoint (id %lld) is signed by key %s, not by the key in use: "
                 "is a server running with another keys directory?",
                 (long long)cp.id, cp.key_id);
        e = PB_ERR_AUDIT_KEY_MISSING;
        goto out;
    }
    if ((e = retire(dir, old_out, *head, err, errcap)) != PB_OK)
        goto out;
    if ((e = create_key_file(dir, path, true, &raced, err, errcap)) != PB_OK)
        goto out;
    sync_dir(dir);
    int missing;
    if ((e = read_key_file(path, &fresh, &missing, err, errcap)) != PB_OK)
        goto out;
    *new_out = *pb_audit_key_public(fresh);
    /* entries appended since the old key's checkpoint get the new key's */
    if ((e = pb_audit_checkpoint(c, fresh, now, &cp, NULL)) != PB_OK)
        snprintf(err, errcap, "the new key is installed, but its first checkpoint failed: %s",
                 pb_err_message(e));
out:
    pb_audit_key_free(old);
    pb_audit_key_free(fresh);
    return e;
}
