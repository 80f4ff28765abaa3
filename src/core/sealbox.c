/*
 * sealbox.c — see sealbox.h: XChaCha20-Poly1305 boxes for secrets at rest, and
 * the 32-byte key files they are sealed under.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sealbox.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(PB_SEALBOX_OVERHEAD == NONCE + TAG && PB_SEALBOX_NONCE_LEN == NONCE, "box layout");
_Static_assert(PB_SEALBOX_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

void pb_sealbox_seal(const uint8_t key[PB_SEALBOX_KEY_LEN], const char *ad, const uint8_t *plain,
                     size_t len, uint8_t *box)
{
    randombytes_buf(box, NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE, &clen, plain, len,
                                               (const unsigned char *)ad, strlen(ad), NULL, box,
                                               key);
}

int pb_sealbox_open(const uint8_t key[PB_SEALBOX_KEY_LEN], const char *ad, const uint8_t *box,
                    size_t box_len, uint8_t *plain)
{
    if (box_len < PB_SEALBOX_OVERHEAD)
        return -1;
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, box + NONCE, box_len - NONCE,
                                                   (const unsigned char *)ad, strlen(ad), box,
                                                   key) != 0) {
        sodium_memzero(plain, box_len - PB_SEALBOX_OVERHEAD);
        return -1;
    }
    return 0;
}

int pb_sealbox_peek(const uint8_t key[PB_SEALBOX_KEY_LEN], const uint8_t *box, size_t box_len,
                    size_t n, uint8_t *plain)
{
    if (box_len < PB_SEALBOX_OVERHEAD || n > box_len - PB_SEALBOX_OVERHEAD)
        return -1;
    /* the IETF AEAD enciphers with ChaCha20 under HChaCha20(key, nonce[0..16)),
     * nonce 0^4 || nonce[16..24) and block counter 1 (block 0 keys Poly1305):
     * the same keystream as XChaCha20's 64-bit-counter form at counter 1 */
    crypto_stream_xchacha20_xor_ic(plain, box + NONCE, n, box, 1, key);
    return 0;
}

int pb_keyfile_make_dir(const char *dir, char *err, size_t errcap)
{
    char path[4096];
    if (!*dir || snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, errcap, "invalid keys directory \"%s\"", dir);
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errcap, "cannot create %s: %s", path, strerror(errno));
                return -1;
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s is not a directory", dir);
        return -1;
    }
    return 0;
}

/* fd is a regular file that only its owner may read. */
static int private_file(int fd, const char *path, char *err, size_t errcap)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s is not a regular file", path);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(err, errcap, "%s is accessible by group or others (mode %03o); chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if (st.st_size != PB_SEALBOX_KEY_LEN) {
        snprintf(err, errcap, "%s must hold exactly %d bytes", path, PB_SEALBOX_KEY_LEN);
        return -1;
    }
    return 0;
}

/* Reads dir/name into key: 0, -1 with err, or 1 when it does not exist. */
static int read_key(const char *path, uint8_t key[PB_SEALBOX_KEY_LEN], char *err, size_t errcap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = private_file(fd, path, err, errcap);
    if (rc == 0 && read(fd, key, PB_SEALBOX_KEY_LEN) != PB_SEALBOX_KEY_LEN) {
        snprintf(err, errcap, "cannot read %s", path);
        rc = -1;
    }
    close(fd);
    return rc;
}

int pb_keyfile_read(const char *dir, const char *name, uint8_t key[PB_SEALBOX_KEY_LEN], char *err,
                    size_t errcap)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) {
        snprintf(err, errcap, "the path of %s is too long", name);
        return -1;
    }
    return read_key(p, key, err, errcap);
}

int pb_keyfile_secret(const char *dir, const char *name, uint8_t key[PB_SEALBOX_KEY_LEN], char *err,
                      size_t errcap)
{
    char p[4096], tmp[4096 + 48];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) {
        snprintf(err, errcap, "the path of %s is too long", name);
        return -1;
    }
    int rc = read_key(p, key, err, errcap);
    if (rc <= 0)
        return rc;
    /* a new key: written whole to a temporary name, then linked into place — link(2)
     * refuses an existing name, so of two processes creating it at once one wins and
     * the other reads the winner's; nobody ever reads a half-written file */
    snprintf(tmp, sizeof tmp, "%s.%ld.%08x.tmp", p, (long)getpid(), randombytes_random());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errcap, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    randombytes_buf(key, PB_SEALBOX_KEY_LEN);
    bool ok = write(fd, key, PB_SEALBOX_KEY_LEN) == PB_SEALBOX_KEY_LEN && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    int link_errno = 0;
    if (ok && link(tmp, p) != 0)
        link_errno = errno;
    unlink(tmp);
    if (ok && link_errno == 0) {
        /* the name itself durable before anything is sealed under the key */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok = dfd >= 0 && fsync(dfd) == 0;
        if (dfd >= 0)
            close(dfd);
        if (ok)
            return 0;
        snprintf(err, errcap, "cannot sync %s: %s", dir, strerror(errno));
        sodium_memzero(key, PB_SEALBOX_KEY_LEN);
        return -1;
    }
    sodium_memzero(key, PB_SEALBOX_KEY_LEN);
    if (link_errno == EEXIST) { /* another process created it first: read theirs */
        if ((rc = read_key(p, key, err, errcap)) == 1)
            snprintf(err, errcap, "%s vanished while being created", p);
        return rc == 0 ? 0 : -1;
    }
    snprintf(err, errcap, "cannot create %s: %s", p, strerror(link_errno ? link_errno : errno));
    return -1;
}
