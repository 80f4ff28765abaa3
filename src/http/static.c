/*
 * static.c — the back office UI's files (web/dist) served at / by `pitboss serve`.
 *
 * The server calls pb_http_static_serve() (installed with
 * pb_http_server_set_fallback) for every request that no route matches. Paths
 * the API owns (/v1…, /.well-known/…, /metrics, /healthz, /readyz, /docs,
 * /openapi.yaml and below) are left to the API's 404; so are methods other than
 * GET and HEAD. Everything else is the UI:
 *
 *   - an existing regular file under the web root is sent with its Content-Type
 *     (by extension), an ETag (size and mtime) and If-None-Match → 304;
 *     files under /assets/ (Vite's hashed names) are cached for a year (immutable), the rest
 *     is `no-cache`;
 *   - any other path answers index.html (the UI routes with the History API),
 *     except a missing /assets/… file, which is a 404 (HTML in place of a script
 *     only hides the mistake);
 *   - every UI answer carries the Content-Security-Policy and Referrer-Policy
 *     below (X-Content-Type-Options: nosniff is on every answer of the server);
 *   - no web root (the UI not built yet) → 503 with a short HTML page saying to
 *     run `make run`.
 *
 * Safety: the path is percent-decoded once; a NUL byte, a bad escape, a
 * backslash or a segment beginning with '.' ("..", ".", dotfiles) is refused
 * before the file system is touched (400 for bad encoding, 404 for the rest).
 * The decoded path is then resolved with realpath() and must stay under the
 * root's own realpath (a symlink pointing out of the root is a 404); the final
 * open uses O_NOFOLLOW and the file must be regular.
 *
 * Files are read on each request (the root is realpath()ed each time too), with
 * a 32 MiB cap: dist is small, the page cache keeps it hot, and a rebuilt UI is
 * served without restarting the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http.h"

#define STATIC_MAX_FILE (32u << 20)

struct pb_http_static {
    char *root;
};

static const char CSP[] = "default-src 'self'; img-src 'self' data:; style-src 'self' "
                          "'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'self'";

static const char MISSING_PAGE[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>pitboss back office</title></head><body>"
    "<h1>The back office is not built</h1>"
    "<p>The web UI's files (web/dist) were not found. Run <code>make run</code>, which builds "
    "them and starts the server with <code>--web-dir web/dist</code>.</p></body></html>\n";

pb_http_static *pb_http_static_new(const char *root)
{
    pb_http_static *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->root = strdup(root && *root ? root : "web/dist");
    if (!st->root) {
        free(st);
        return NULL;
    }
    return st;
}

void pb_http_static_free(pb_http_static *st)
{
    if (!st)
        return;
    free(st->root);
    free(st);
}

const char *pb_http_static_root(const pb_http_static *st) { return st->root; }

/* True when the path belongs to the API (its 404 stays the API's JSON). */
static bool api_owned(const char *p)
{
    static const char *const prefixes[] = {"/v1",     "/.well-known", "/metrics",     "/healthz",
                                           "/readyz", "/docs",        "/openapi.yaml"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(p, prefixes[i], n) == 0 && (p[n] == '\0' || p[n] == '/' || p[n] == '?'))
            return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src into dst (cap bytes). 0, or 400 (bad escape, NUL), 404 (too long). */
static int decode_path(const char *src, char *dst, size_t cap)
{
    size_t n = 0;
    for (const char *s = src; *s; s++) {
        int c = (unsigned char)*s;
        if (c == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (hi < 0 || lo < 0)
                return 400;
            c = hi * 16 + lo;
            s += 2;
            if (c == 0)
                return 400;
        }
        if (n + 1 >= cap)
            return 404;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return 0;
}

/* 0 when every segment is acceptable; 404 for '.', '..', dotfiles, backslashes. */
static int check_segments(const char *p)
{
    if (strchr(p, '\\'))
        return 404;
    for (const char *s = p; *s; s++)
        if (*s == '/' && s[1] == '.')
            return 404;
    return 0;
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".wasm", "application/wasm"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static void ui_headers(pb_http_request *req)
{
    pb_http_add_header(req, "Content-Security-Policy", CSP);
    pb_http_add_header(req, "Referrer-Policy", "no-referrer");
}

static void reply_plain(pb_http_request *req, int status, const char *msg)
{
    ui_headers(req);
    pb_http_add_header(req, "Cache-Control", "no-store");
    pb_http_reply_text(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* True when the If-None-Match header names etag (or is "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p == '*')
            return true;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

/*
 * Sends the regular file at the real path `real` (under the root). 0 when
 * replied, -1 when it is not a readable regular file (nothing sent).
 */
static int send_file(pb_http_request *req, const char *real, const char *cache)
{
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > STATIC_MAX_FILE) {
        close(fd);
        return -1;
    }
    char etag[80];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    ui_headers(req);
    pb_http_add_header(req, "ETag", etag);
    pb_http_add_header(req, "Cache-Control", cache);
    const char *ctype = content_type(real);
    if (etag_matches(pb_http_header(req, "If-None-Match"), etag)) {
        close(fd);
        pb_http_reply_text(req, 304, ctype, "", 0);
        return 0;
    }
    size_t len = (size_t)st.st_size, got = 0;
    char *data = malloc(len ? len : 1);
    if (!data) {
        close(fd);
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return 0;
    }
    while (got < len) {
        ssize_t r = read(fd, data + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    pb_http_reply_text(req, 200, ctype, data, got);
    free(data);
    return 0;
}

bool pb_http_static_serve(void *ctx, pb_http_request *req)
{
    pb_http_static *st = ctx;
    const char *method = pb_http_method(req);
    const char *path = pb_http_path(req);
    if (!st || !path || path[0] != '/' || api_owned(path))
        return false;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return false;

    char root[PATH_MAX];
    if (!realpath(st->root, root)) {
        ui_headers(req);
        pb_http_add_header(req, "Cache-Control", "no-store");
        pb_http_reply_text(req, 503, "text/html; charset=utf-8", MISSING_PAGE,
                           sizeof MISSING_PAGE - 1);
        return true;
    }
    char rel[PATH_MAX];
    int rc = decode_path(path, rel, sizeof rel);
    if (rc == 0)
        rc = check_segments(rel);
    if (rc != 0) {
        reply_plain(req, rc, rc == 400 ? "bad request\n" : "not found\n");
        return true;
    }
    bool asset = strncmp(rel, "/assets/", 8) == 0;
    char full[PATH_MAX * 2], real[PATH_MAX];
    size_t rootlen = strlen(root);
    if (strcmp(rel, "/") != 0 &&
        snprintf(full, sizeof full, "%s%s", root, rel) < (int)sizeof full && realpath(full, real)) {
        if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/') {
            reply_plain(req, 404, "not found\n"); /* resolves outside the root */
            return true;
        }
        struct stat sb;
        if (stat(real, &sb) == 0 && S_ISREG(sb.st_mode) &&
            send_file(req, real, asset ? "public, max-age=31536000, immutable" : "no-cache") == 0)
            return true;
    }
    if (asset) {
        reply_plain(req, 404, "not found\n");
        return true;
    }
    snprintf(full, sizeof full, "%s/index.html", root);
    if (send_file(req, full, "no-cache") != 0) {
        ui_headers(req);
        pb_http_add_header(req, "Cache-Control", "no-store");
        pb_http_reply_text(req, 503, "text/html; charset=utf-8", MISSING_PAGE,
                           sizeof MISSING_PAGE - 1);
    }
    return true;
}
