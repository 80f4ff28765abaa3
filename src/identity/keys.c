/*
 * keys.c — the access-token signing keys, kept in the keys directory.
 *
 * Layout (the directory is 0700, every file 0600 and refused if group/other can
 * read it):
 *   keys.manifest  one line per key: kid alg created_us activates_us deactivated_us
 *   <kid>.pem      the key's private half (ES256: an EC P-256 key, PKCS#8 PEM)
 *   keys.lock      serialises creation and rotation between processes (flock)
 *   totp.key       32 random bytes that seal TOTP seeds (pb_keyset_secret)
 *   fair.key       32 random bytes that seal active server seeds (src/games/seal.c)
 *   provider.key   32 random bytes that seal native providers' HMAC keys
 *                  (src/catalog/secret.c)
 *   pii.key        32 random bytes that seal players' names and dates of birth
 *                  (pii.c); every such file: core/sealbox.c
 *
 * Life of a key (RFC 8725 / the JWT practice in REFERENCES.md): it is published
 * (verifies) from created_us, signs from activates_us (created + the publish
 * delay, so other instances learn it before its first token reaches them), stops
 * signing at deactivated_us (when its successor activates), verifies until
 * deactivated_us + the longest access-token lifetime, and is then deleted at the
 * next rotation. The algorithm is bound to the key, never taken from a token.
 *
 * Threads: the set is swapped whole under a rwlock; signing takes a reference to
 * the key and signs outside the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sealbox.h"
#include "identity/identity_internal.h"

#define MANIFEST "keys.manifest"
#define MAX_KEYS 64
#define RELOAD_EVERY_US 5000000

typedef struct key {
    char kid[PB_KID_MAX + 1];
    char alg[8];
    int64_t created_at, activates_at, deactivated_at;
    EVP_PKEY *pkey;
    char pub_pem[PB_PUBLIC_PEM_MAX];
    size_t pub_len;
} key;

struct pb_keyset {
    char dir[512];
    int64_t max_ttl_us, publish_us;
    pthread_rwlock_t lock;
    key *keys;
    size_t n;
    pthread_mutex_t reload_mu;
    int64_t reloaded_at;
};

/* Frees a key array. */
static void keys_free(key *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        EVP_PKEY_free(k[i].pkey);
    free(k);
}

/* Writes "<dir>/<name>" into buf. */
static void path_of(const pb_keyset *ks, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", ks->dir, name);
}

/* Opens (creating) keys.lock and takes an flock of `how`; -1 on failure. */
static int lock_dir(const pb_keyset *ks, int how)
{
    char p[600];
    path_of(ks, "keys.lock", p, sizeof p);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, how) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Releases the lock taken by lock_dir. */
static void unlock_dir(int fd)
{
    flock(fd, LOCK_UN);
    close(fd);
}

/* Refuses a secret file that is not a regular file of ours readable only by us. */
static bool private_file_ok(int fd, const char *path, char *err, size_t errcap)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s is not a regular file", path);
        return false;
    }
    if (st.st_mode & 077) {
        snprintf(err, errcap, "%s is accessible by group or others (mode %03o); chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        return false;
    }
    return true;
}

/* Reads a private key file into k (with its public PEM). */
static bool load_key_file(const pb_keyset *ks, key *k, char *err, size_t errcap)
{
    char p[600], name[PB_KID_MAX + 8];
    snprintf(name, sizeof name, "%s.pem", k->kid);
    path_of(ks, name, p, sizeof p);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errcap, "cannot open %s: %s", p, strerror(errno));
        return false;
    }
    if (!private_file_ok(fd, p, err, errcap)) {
        close(fd);
        return false;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        snprintf(err, errcap, "cannot read %s", p);
        return false;
    }
    k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    char group[32] = "";
    if (!k->pkey || !EVP_PKEY_is_a(k->pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        NULL) ||
        strcmp(group, "prime256v1") != 0) {
        snprintf(err, errcap, "%s is not an EC P-256 private key", p);
        return false;
    }
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long len;
    bool ok = b && PEM_write_bio_PUBKEY(b, k->pkey) && (len = BIO_get_mem_data(b, &data)) > 0 &&
              (size_t)len < sizeof k->pub_pem;
    if (ok) {
        memcpy(k->pub_pem, data, (size_t)len);
        k->pub_len = (size_t)len;
    } else {
        snprintf(err, errcap, "cannot derive the public key of %s", p);
    }
    BIO_free(b);
    return ok;
}

/* Parses the manifest and loads every key it names. A missing manifest is an
 * empty set (*n = 0). */
static bool read_set(const pb_keyset *ks, key **out, size_t *n, char *err, size_t errcap)
{
    char p[600];
    path_of(ks, MANIFEST, p, sizeof p);
    *out = NULL;
    *n = 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        snprintf(err, errcap, "cannot open %s: %s", p, strerror(errno));
        return false;
    }
    FILE *f = private_file_ok(fd, p, err, errcap) ? fdopen(fd, "r") : NULL;
    if (!f) {
        close(fd);
        return false;
    }
    key *keys = calloc(MAX_KEYS, sizeof *keys);
    bool ok = keys != NULL;
    if (!ok)
        snprintf(err, errcap, "out of memory");
    char line[256];
    while (ok && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (*n == MAX_KEYS) {
            snprintf(err, errcap, "%s: more than %d keys", p, MAX_KEYS);
            ok = false;
            break;
        }
        key *k = &keys[*n];
        char kid[64], alg[16];
        if (sscanf(line, "%63s %15s %" SCNd64 " %" SCNd64 " %" SCNd64, kid, alg, &k->created_at,
                   &k->activates_at, &k->deactivated_at) != 5 ||
            strlen(kid) > PB_KID_MAX || strspn(kid, "0123456789abcdef") != strlen(kid) ||
            strcmp(alg, "ES256") != 0) {
            snprintf(err, errcap, "%s: malformed line", p);
            ok = false;
            break;
        }
        memcpy(k->kid, kid, strlen(kid) + 1);    /* length checked above */
        memcpy(k->alg, "ES256", sizeof "ES256"); /* the only algorithm accepted above */
        (*n)++;
        ok = load_key_file(ks, k, err, errcap);
    }
    fclose(f);
    if (!ok) {
        keys_free(keys, *n); /* a key that failed to load is counted in *n */
        *n = 0;
        return false;
    }
    *out = keys;
    return true;
}

/* Writes the manifest for keys[0..n) atomically (temporary file, fsync, rename). */
static bool write_manifest(const pb_keyset *ks, const key *keys, size_t n, char *err, size_t errcap)
{
    char p[600], tmp[610];
    path_of(ks, MANIFEST, p, sizeof p);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errcap, "cannot write %s: %s", tmp, strerror(errno));
        return false;
    }
    fprintf(f, "# pitboss access-token signing keys: kid alg created_us activates_us "
               "deactivated_us (0: still signing)\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %s %" PRId64 " %" PRId64 " %" PRId64 "\n", keys[i].kid, keys[i].alg,
                keys[i].created_at, keys[i].activates_at, keys[i].deactivated_at);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, p) != 0) {
        snprintf(err, errcap, "cannot write %s: %s", p, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

/* Generates a new P-256 key into k and writes its private PEM (0600, new file). */
static bool generate_key(const pb_keyset *ks, key *k, char *err, size_t errcap)
{
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(k->kid, sizeof k->kid, rnd, sizeof rnd);
    snprintf(k->alg, sizeof k->alg, "ES256");
    k->pkey = EVP_EC_gen("P-256");
    BIO *b = k->pkey ? BIO_new(BIO_s_secmem()) : NULL;
    char *data = NULL;
    long len = 0;
    if (!b || !PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) ||
        (len = BIO_get_mem_data(b, &data)) <= 0) {
        snprintf(err, errcap, "cannot generate an EC P-256 key");
        BIO_free(b);
        return false;
    }
    char p[600], name[PB_KID_MAX + 8];
    snprintf(name, sizeof name, "%s.pem", k->kid);
    path_of(ks, name, p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool ok = fd >= 0 && write(fd, data, (size_t)len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    BIO_free(b);
    if (!ok) {
        snprintf(err, errcap, "cannot write %s: %s", p, strerror(errno));
        unlink(p);
        return false;
    }
    /* derive the public PEM the same way a later load does */
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
    return load_key_file(ks, k, err, errcap);
}

/* Replaces the in-memory set. */
static void install(pb_keyset *ks, key *keys, size_t n)
{
    pthread_rwlock_wrlock(&ks->lock);
    key *old = ks->keys;
    size_t oldn = ks->n;
    ks->keys = keys;
    ks->n = n;
    pthread_rwlock_unlock(&ks->lock);
    keys_free(old, oldn);
}

/* Creates the directory and a first key when needed, under the directory lock. */
pb_keyset *pb_keyset_open(const char *dir, int64_t max_token_ttl_us, int64_t publish_us,
                          int64_t now, char *err, size_t errcap)
{
    pb_keyset *ks = calloc(1, sizeof *ks);
    if (!ks || !dir || strlen(dir) >= sizeof ks->dir - 64) {
        snprintf(err, errcap, "keys directory path missing or too long");
        free(ks);
        return NULL;
    }
    snprintf(ks->dir, sizeof ks->dir, "%s", dir);
    ks->max_ttl_us = max_token_ttl_us;
    ks->publish_us = publish_us;
    pthread_rwlock_init(&ks->lock, NULL);
    pthread_mutex_init(&ks->reload_mu, NULL);
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
        pb_keyset_free(ks);
        return NULL;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s is not a directory", dir);
        pb_keyset_free(ks);
        return NULL;
    }
    if (st.st_mode & 077)
        pb_log(PB_LOG_WARN, "identity.keys",
               "%s is open to group or others (mode %03o); "
               "its files are 0600, but 0700 is advised",
               dir, (unsigned)(st.st_mode & 0777));
    int lk = lock_dir(ks, LOCK_EX);
    key *keys = NULL;
    size_t n = 0;
    bool ok = lk >= 0 && read_set(ks, &keys, &n, err, errcap);
    if (lk < 0)
        snprintf(err, errcap, "cannot lock %s/keys.lock: %s", dir, strerror(errno));
    if (ok && n == 0) {
        keys_free(keys, 0);
        keys = calloc(1, sizeof *keys);
        ok = keys && generate_key(ks, &keys[0], err, errcap);
        if (ok) {
            keys[0].created_at = keys[0].activates_at = now;
            n = 1;
            ok = write_manifest(ks, keys, n, err, errcap);
            pb_log(PB_LOG_INFO, "identity.keys", "created signing key %s in %s", keys[0].kid, dir);
        } else if (keys) {
            keys_free(keys, 1);
            keys = NULL;
        }
    }
    if (lk >= 0)
        unlock_dir(lk);
    if (!ok) {
        keys_free(keys, n);
        pb_keyset_free(ks);
        return NULL;
    }
    install(ks, keys, n);
    ks->reloaded_at = now;
    return ks;
}

/* Frees the set and its keys. */
void pb_keyset_free(pb_keyset *ks)
{
    if (!ks)
        return;
    keys_free(ks->keys, ks->n);
    pthread_rwlock_destroy(&ks->lock);
    pthread_mutex_destroy(&ks->reload_mu);
    free(ks);
}

/* True when k signs at now. */
static bool signs_at(const key *k, int64_t now)
{
    return k->activates_at <= now && (k->deactivated_at == 0 || now < k->deactivated_at);
}

/* True when k verifies at now (published and not yet retired). */
static bool verifies_at(const pb_keyset *ks, const key *k, int64_t now)
{
    return k->created_at <= now &&
           (k->deactivated_at == 0 || now < k->deactivated_at + ks->max_ttl_us);
}

/* Adds a key to the set on disk (re-read under the lock), retires the old, prunes the dead. */
pb_err pb_keyset_rotate(pb_keyset *ks, int64_t now, char kid_out[PB_KID_MAX + 1])
{
    char err[300];
    int lk = lock_dir(ks, LOCK_EX);
    if (lk < 0) {
        pb_log(PB_LOG_ERROR, "identity.keys", "cannot lock the keys directory: %s",
               strerror(errno));
        return PB_ERR_INTERNAL;
    }
    key *keys = NULL;
    size_t n = 0;
    bool ok = read_set(ks, &keys, &n, err, sizeof err); /* another instance may have rotated */
    key *grown = ok ? realloc(keys, (n + 1) * sizeof *keys) : NULL;
    if (ok && !grown)
        snprintf(err, sizeof err, "out of memory");
    ok = ok && grown;
    if (ok) {
        keys = grown;
        key *k = &keys[n];
        memset(k, 0, sizeof *k);
        ok = generate_key(ks, k, err, sizeof err);
        if (ok) {
            k->created_at = now;
            k->activates_at = now + ks->publish_us;
            for (size_t i = 0; i < n; i++)
                if (keys[i].deactivated_at == 0 || keys[i].deactivated_at > k->activates_at)
                    keys[i].deactivated_at = k->activates_at;
            n++;
            if (kid_out)
                snprintf(kid_out, PB_KID_MAX + 1, "%s", k->kid);
        } else {
            EVP_PKEY_free(k->pkey);
        }
    }
    /* forget retired keys: drop them from the manifest, then delete their files */
    size_t kept = 0;
    char retired[MAX_KEYS][PB_KID_MAX + 1];
    size_t nretired = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (keys[i].deactivated_at != 0 && now >= keys[i].deactivated_at + ks->max_ttl_us) {
            snprintf(retired[nretired++], PB_KID_MAX + 1, "%s", keys[i].kid);
            EVP_PKEY_free(keys[i].pkey);
        } else {
            keys[kept++] = keys[i];
        }
    }
    if (ok) {
        n = kept;
        ok = write_manifest(ks, keys, n, err, sizeof err);
    }
    for (size_t i = 0; ok && i < nretired; i++) {
        char p[600], name[PB_KID_MAX + 8];
        snprintf(name, sizeof name, "%s.pem", retired[i]);
        path_of(ks, name, p, sizeof p);
        unlink(p);
    }
    unlock_dir(lk);
    if (!ok) {
        pb_log(PB_LOG_ERROR, "identity.keys", "key rotation failed: %s", err);
        keys_free(keys, n);
        return PB_ERR_INTERNAL;
    }
    pb_log(PB_LOG_INFO, "identity.keys",
           "rotated: new signing key %s (signs from %" PRId64 "), %zu key(s) retired",
           keys[n - 1].kid, keys[n - 1].activates_at, nretired);
    install(ks, keys, n);
    return PB_OK;
}

/* Re-reads the manifest and keys and swaps the set in. */
pb_err pb_keyset_reload(pb_keyset *ks, int64_t now)
{
    char err[300];
    int lk = lock_dir(ks, LOCK_SH);
    key *keys = NULL;
    size_t n = 0;
    bool ok = lk >= 0 && read_set(ks, &keys, &n, err, sizeof err) && n > 0;
    if (lk >= 0)
        unlock_dir(lk);
    if (!ok) {
        pb_log(PB_LOG_ERROR, "identity.keys", "reloading the key set failed: %s",
               lk < 0   ? "cannot lock"
               : n == 0 ? "no keys"
                        : err);
        keys_free(keys, n);
        return PB_ERR_INTERNAL;
    }
    install(ks, keys, n);
    pthread_mutex_lock(&ks->reload_mu);
    ks->reloaded_at = now;
    pthread_mutex_unlock(&ks->reload_mu);
    return PB_OK;
}

struct pb_signer {
    EVP_PKEY *pkey;
};

/* Picks the newest key that signs at now and takes a reference to it. */
pb_signer *pb_keyset_signer(pb_keyset *ks, int64_t now, char kid[PB_KID_MAX + 1])
{
    pb_signer *sg = calloc(1, sizeof *sg);
    if (!sg)
        return NULL;
    pthread_rwlock_rdlock(&ks->lock);
    const key *best = NULL;
    for (size_t i = 0; i < ks->n; i++)
        if (signs_at(&ks->keys[i], now) && (!best || ks->keys[i].activates_at > best->activates_at))
            best = &ks->keys[i];
    if (best) {
        sg->pkey = best->pkey;
        EVP_PKEY_up_ref(sg->pkey);
        snprintf(kid, PB_KID_MAX + 1, "%s", best->kid);
    }
    pthread_rwlock_unlock(&ks->lock);
    if (!sg->pkey) {
        pb_log(PB_LOG_ERROR, "identity.keys", "no key signs at %" PRId64, now);
        free(sg);
        return NULL;
    }
    return sg;
}

/* ES256 over data; the DER signature OpenSSL makes is converted to r || s. */
pb_err pb_signer_sign(pb_signer *sg, const void *data, size_t len, uint8_t sig[64])
{
    /* OpenSSL signs in DER; JWS ES256 wants r || s, 32 bytes each (RFC 7518 3.4) */
    unsigned char der[128];
    size_t dlen = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, sg->pkey) == 1 &&
              EVP_DigestSign(md, der, &dlen, data, len) == 1;
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *es = ok ? d2i_ECDSA_SIG(NULL, &p, (long)dlen) : NULL;
    const BIGNUM *r = NULL, *s = NULL;
    if (es)
        ECDSA_SIG_get0(es, &r, &s);
    ok = es && BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
    ECDSA_SIG_free(es);
    if (!ok) {
        pb_log(PB_LOG_ERROR, "identity.keys", "ES256 signing failed");
        return PB_ERR_INTERNAL;
    }
    return PB_OK;
}

/* Drops the reference. */
void pb_signer_free(pb_signer *sg)
{
    if (!sg)
        return;
    EVP_PKEY_free(sg->pkey);
    free(sg);
}

/* A reference to kid's key if it verifies at now and its algorithm is alg. */
static EVP_PKEY *find_key(pb_keyset *ks, const char *kid, const char *alg, int64_t now)
{
    EVP_PKEY *pkey = NULL;
    pthread_rwlock_rdlock(&ks->lock);
    for (size_t i = 0; i < ks->n && !pkey; i++) {
        const key *k = &ks->keys[i];
        if (strcmp(k->kid, kid) == 0 && strcmp(k->alg, alg) == 0 && verifies_at(ks, k, now)) {
            pkey = k->pkey;
            EVP_PKEY_up_ref(pkey);
        }
    }
    pthread_rwlock_unlock(&ks->lock);
    return pkey;
}

/* True when the next lookup of an unknown kid may re-read the disk (every 5 s at most). */
static bool reload_due(pb_keyset *ks, int64_t now)
{
    pthread_mutex_lock(&ks->reload_mu);
    bool due = now - ks->reloaded_at >= RELOAD_EVERY_US;
    if (due)
        ks->reloaded_at = now;
    pthread_mutex_unlock(&ks->reload_mu);
    return due;
}

/* Resolves kid within our set for this algorithm only, then checks the ES256 signature. */
pb_err pb_keyset_verify(pb_keyset *ks, const char *kid, const char *alg, int64_t now,
                        const void *data, size_t len, const uint8_t *sig, size_t siglen)
{
    EVP_PKEY *pkey = find_key(ks, kid, alg, now);
    if (!pkey && reload_due(ks, now) && pb_keyset_reload(ks, now) == PB_OK)
        pkey = find_key(ks, kid, alg, now); /* perhaps another instance rotated */
    if (!pkey)
        return PB_ERR_NOT_FOUND;
    /* JWS ES256 is r || s (RFC 7518 3.4); OpenSSL verifies DER */
    bool ok = false;
    ECDSA_SIG *es = siglen == 64 ? ECDSA_SIG_new() : NULL;
    BIGNUM *r = es ? BN_bin2bn(sig, 32, NULL) : NULL;
    BIGNUM *s = es ? BN_bin2bn(sig + 32, 32, NULL) : NULL;
    if (r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        unsigned char *der = NULL;
        int dlen = i2d_ECDSA_SIG(es, &der);
        EVP_MD_CTX *md = dlen > 0 ? EVP_MD_CTX_new() : NULL;
        ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_DigestVerify(md, der, (size_t)dlen, data, len) == 1;
        EVP_MD_CTX_free(md);
        OPENSSL_free(der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(pkey);
    return ok ? PB_OK : PB_ERR_TOKEN_INVALID;
}

/* Copies kid's verification material if it verifies at now. */
static bool find_verifier(pb_keyset *ks, const char *kid, int64_t now, char *pem, size_t *pem_len,
                          char alg[8])
{
    bool found = false;
    pthread_rwlock_rdlock(&ks->lock);
    for (size_t i = 0; i < ks->n && !found; i++) {
        const key *k = &ks->keys[i];
        if (strcmp(k->kid, kid) == 0 && verifies_at(ks, k, now)) {
            memcpy(pem, k->pub_pem, k->pub_len);
            *pem_len = k->pub_len;
            memcpy(alg, k->alg, sizeof k->alg);
            found = true;
        }
    }
    pthread_rwlock_unlock(&ks->lock);
    return found;
}

/* Copies the public PEM of a verifying key. */
pb_err pb_keyset_verifier(pb_keyset *ks, const char *kid, int64_t now, char pem[PB_PUBLIC_PEM_MAX],
                          size_t *pem_len, char alg[8])
{
    if (find_verifier(ks, kid, now, pem, pem_len, alg))
        return PB_OK;
    /* perhaps another instance rotated: look at the disk again, at most every 5 s */
    if (reload_due(ks, now) && pb_keyset_reload(ks, now) == PB_OK &&
        find_verifier(ks, kid, now, pem, pem_len, alg))
        return PB_OK;
    return PB_ERR_NOT_FOUND;
}

/* k's public point as JWK coordinates (an uncompressed P-256 point: 04 || x || y). */
static bool jwk_of(const key *k, pb_public_jwk *out)
{
    unsigned char pt[65];
    size_t len = 0;
    if (!EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len) ||
        len != sizeof pt || pt[0] != 0x04)
        return false;
    snprintf(out->kid, sizeof out->kid, "%s", k->kid);
    snprintf(out->alg, sizeof out->alg, "%s", k->alg);
    snprintf(out->crv, sizeof out->crv, "P-256");
    sodium_bin2base64(out->x, sizeof out->x, pt + 1, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(out->y, sizeof out->y, pt + 33, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

/* Every key that verifies at now, in the set's order. */
pb_err pb_keyset_public_keys(pb_keyset *ks, int64_t now, pb_public_jwk *out, size_t cap, size_t *n)
{
    pb_err e = PB_OK;
    *n = 0;
    pthread_rwlock_rdlock(&ks->lock);
    for (size_t i = 0; i < ks->n && *n < cap && e == PB_OK; i++) {
        const key *k = &ks->keys[i];
        if (!verifies_at(ks, k, now))
            continue;
        if (jwk_of(k, &out[*n]))
            (*n)++;
        else
            e = PB_ERR_INTERNAL;
    }
    pthread_rwlock_unlock(&ks->lock);
    if (e != PB_OK)
        pb_log(PB_LOG_ERROR, "identity.keys", "cannot export a public key");
    return e;
}

/* Reads the secret file, or creates it with random bytes (core/sealbox.h). */
pb_err pb_keyset_secret(pb_keyset *ks, const char *name, uint8_t key_out[32], char *err,
                        size_t errcap)
{
    return pb_keyfile_secret(ks->dir, name, key_out, err, errcap) == 0 ? PB_OK : PB_ERR_INTERNAL;
}
