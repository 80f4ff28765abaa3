/*
 * entry.c — validating and appending audit entries.
 *
 * pb_audit_append() runs inside the caller's write transaction: validate the
 * entry (nothing is written for a bad one), read the chain head, take the next
 * seq and the head's hash as prev, date the entry no earlier than the head (so
 * time order is seq order), hash it, insert it. On SQLite the write transaction
 * holds the database's write lock, so no other appender can take the same seq;
 * on a backend without one, the seq's primary key refuses the second appender,
 * which is reported as retryable.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit_internal.h"
#include "core/log.h"

bool pb_audit_utf8_ok(const char *s, size_t n, bool allow_tab_newline)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((c < 0x20 && !(allow_tab_newline && (c == '\t' || c == '\n' || c == '\r'))) ||
                c == 0x7f)
                return false;
            p++;
            continue;
        }
        size_t len;
        unsigned cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) < len)
            return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false; /* overlong, beyond Unicode, or a surrogate */
        p += len;
    }
    return true;
}

/* Visible ASCII only (0x21..0x7e), length 0..max. */
static bool ascii_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* Length 0..max, every byte in `allowed`. */
static bool charset_ok(const char *s, size_t max, const char *allowed)
{
    size_t n = strlen(s);
    return n <= max && strspn(s, allowed) == n;
}

/* UTF-8 text of 0..max bytes. */
static bool text_ok(const char *s, size_t max, bool allow_tab_newline)
{
    size_t n = strlen(s);
    return n <= max && pb_audit_utf8_ok(s, n, allow_tab_newline);
}

bool pb_audit_action_ok(const char *s, bool prefix)
{
    size_t n = strlen(s), seg = 0, dots = 0;
    if (n == 0 || n > PB_AUDIT_ACTION_MAX)
        return false;
    if (prefix) /* "player." or "brand.limits.": the segments before the final dot */
        return s[0] != '.' && s[n - 1] == '.' && !strstr(s, "..") &&
               strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.") == n;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (seg == 0)
                return false;
            dots++;
            seg = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_') {
            seg++;
        } else {
            return false;
        }
    }
    return dots >= 1 && seg > 0;
}

/* NULL, or a JSON text of at most PB_AUDIT_JSON_MAX bytes. */
static bool json_ok(const char *s)
{
    if (!s)
        return true;
    size_t n = strlen(s);
    if (n == 0 || n > PB_AUDIT_JSON_MAX || !pb_audit_utf8_ok(s, n, true))
        return false;
    json_error_t jerr;
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
    json_decref(v);
    return v != NULL;
}

/* "", or an IPv4 / IPv6 address in text form. */
static bool ip_ok(const char *s)
{
    unsigned char addr[16];
    if (!*s)
        return true;
    if (strlen(s) > PB_AUDIT_IP_MAX)
        return false;
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* NULL reads as "". */
static const char *str(const char *s) { return s ? s : ""; }

pb_err pb_audit_validate(const pb_audit_entry *e, const char **bad_field)
{
    static const char lower_digits[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    static const char role_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
    static const char trace_chars[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-";
    const char *kind = str(e->actor_kind), *bad = NULL;
    if (strcmp(kind, "staff") != 0 && strcmp(kind, "player") != 0 && strcmp(kind, "system") != 0)
        bad = "actor_kind";
    else if (!ascii_ok(str(e->actor_id), PB_AUDIT_ACTOR_ID_MAX))
        bad = "actor_id";
    else if (!text_ok(str(e->actor_email), PB_AUDIT_EMAIL_MAX, false))
        bad = "actor_email";
    else if (!charset_ok(str(e->role), PB_AUDIT_ROLE_MAX, role_chars))
        bad = "role";
    else if (!ascii_ok(str(e->brand), PB_AUDIT_BRAND_MAX))
        bad = "brand";
    else if (!pb_audit_action_ok(str(e->action), false))
        bad = "action";
    else if (!charset_ok(str(e->target_kind), PB_AUDIT_TARGET_KIND_MAX, lower_digits))
        bad = "target_kind";
    else if (!text_ok(str(e->target_id), PB_AUDIT_TARGET_ID_MAX, false) ||
             (*str(e->target_id) && !*str(e->target_kind)))
        bad = "target_id";
    else if (!json_ok(e->before))
        bad = "before";
    else if (!json_ok(e->after))
        bad = "after";
    else if (!text_ok(str(e->reason), PB_AUDIT_REASON_MAX, true))
        bad = "reason";
    else if (!charset_ok(str(e->trace_id), PB_AUDIT_TRACE_MAX, trace_chars))
        bad = "trace_id";
    else if (!ip_ok(str(e->ip)))
        bad = "ip";
    if (bad_field)
        *bad_field = bad;
    return bad ? PB_ERR_FIELD_INVALID : PB_OK;
}

/* Copies a validated (so fitting) string into a record field. */
#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", str(src))

pb_err pb_audit_append(pb_store_conn *c, const pb_audit_entry *e, int64_t now)
{
    const char *bad = NULL;
    if (pb_audit_validate(e, &bad) != PB_OK) {
        pb_log(PB_LOG_WARN, "audit.invalid", "audit entry refused: field %s is invalid", bad);
        return PB_ERR_FIELD_INVALID;
    }
    if (now <= 0)
        return PB_ERR_INVALID_REQUEST;
    pb_audit_record r;
    memset(&r, 0, sizeof r);
    COPY(r.actor_kind, e->actor_kind);
    COPY(r.actor_id, e->actor_id);
    COPY(r.actor_email, e->actor_email);
    COPY(r.role, e->role);
    COPY(r.brand, e->brand);
    COPY(r.action, e->action);
    COPY(r.target_kind, e->target_kind);
    COPY(r.target_id, e->target_id);
    COPY(r.reason, e->reason);
    COPY(r.trace_id, e->trace_id);
    COPY(r.ip, e->ip);
    r.before = e->before;
    r.after = e->after;

    pb_store_audit_head head;
    uint8_t prev[32] = {0};
    pb_store_rc rc = pb_store_audit_head_get(c, &head);
    if (rc == PB_STORE_OK) {
        if (head.seq == INT64_MAX)
            return PB_ERR_INTERNAL;
        r.seq = head.seq + 1;
        r.at = now > head.at ? now : head.at;
        memcpy(prev, head.hash, 32);
    } else if (rc == PB_STORE_NOT_FOUND) {
        r.seq = 1;
        r.at = now;
    } else {
        pb_log(PB_LOG_ERROR, "audit.append", "reading the chain head failed: %s",
               pb_store_errmsg(c));
        return pb_audit_store_err(rc);
    }
    pb_id_new(&r.id);
    pb_audit_entry_hash(&r, prev, r.hash);
    rc = pb_store_audit_entry_insert(c, &r);
    if (rc == PB_STORE_CONFLICT) /* another appender took this seq: retry the transaction */
        return PB_ERR_STORE_UNAVAILABLE;
    if (rc != PB_STORE_OK) {
        pb_log(PB_LOG_ERROR, "audit.append", "inserting audit entry seq %lld failed: %s",
               (long long)r.seq, pb_store_errmsg(c));
        return pb_audit_store_err(rc);
    }
    return PB_OK;
}
