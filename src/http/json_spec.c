/*
 * json_spec.c — request bodies parsed once against a declarative field spec.
 *
 * A handler lists the fields it accepts (name, type, required, bounds, where
 * to put the value); pb_json_parse() checks the media type, the encoding, the
 * syntax and every field, and either fills the outputs or says precisely what
 * is wrong and which field. Nothing here allocates except the parsed document.
 *
 * Numbers: jansson refuses an integer beyond int64 ("too big integer") or a
 * real beyond double range while parsing, before any field is known. That is
 * reported as FIELD_INVALID naming the key in front of the number (found by
 * scanning back from the error position), not as INVALID_JSON: the document is
 * well-formed JSON, only the value is out of range. A real where an integer is
 * expected (1.0, 1e3) is FIELD_INVALID too. Duplicate keys are INVALID_JSON
 * naming the key: the document is ambiguous.
 */
#include "http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/time.h"

#define DEFAULT_MAX_STRING 1024
#define DEFAULT_MAX_ITEMS 1000

bool pb_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false; /* continuation byte, overlong lead (C0, C1) or beyond F4 */
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* Copies the valid UTF-8 string s into out, truncated on a character boundary. */
static void copy_utf8(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* s[n] would start the cut character: stop before it */
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Fills err; `field` is copied (truncated on a UTF-8 boundary) when not NULL. */
static pb_err fail(pb_json_error *err, pb_err code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static pb_err fail(pb_json_error *err, pb_err code, const char *field, const char *fmt, ...)
{
    err->code = code;
    err->field = NULL;
    if (field) {
        copy_utf8(err->field_buf, sizeof err->field_buf, field);
        err->field = err->field_buf;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!pb_utf8_valid(msg, strlen(msg)))
        snprintf(msg, sizeof msg, "%s", pb_err_message(code));
    copy_utf8(err->message, sizeof err->message, msg);
    return code;
}

/* True for "application/json", any case, optionally followed by parameters. */
static bool media_type_json(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    static const char want[] = "application/json";
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    char next = ct[sizeof want - 1];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

/* Decodes the JSON string literal that ends just before s[end] into out. */
static bool key_ending_at(const char *s, size_t end, char *out, size_t cap)
{
    if (end == 0 || s[end - 1] != '"')
        return false;
    size_t close = end - 1, open = close;
    for (;;) {
        if (open == 0)
            return false;
        open--;
        if (s[open] != '"')
            continue;
        size_t bs = 0;
        while (open - bs > 0 && s[open - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
    }
    json_t *k = json_loadb(s + open, close - open + 1, JSON_DECODE_ANY, NULL);
    bool ok = json_is_string(k);
    if (ok)
        copy_utf8(out, cap, json_string_value(k));
    json_decref(k);
    return ok;
}

/* The key of the number that ends at s[pos] ("key": 1e999), if there is one. */
static bool key_before_number(const char *s, size_t len, size_t pos, char *out, size_t cap)
{
    size_t i = pos > len ? len : pos;
    while (i > 0 && strchr(" \t\r\n", s[i - 1]))
        i--;
    while (i > 0 && strchr("0123456789+-.eE", s[i - 1]))
        i--;
    while (i > 0 && strchr(" \t\r\n", s[i - 1]))
        i--;
    if (i == 0 || s[i - 1] != ':')
        return false;
    i--;
    while (i > 0 && strchr(" \t\r\n", s[i - 1]))
        i--;
    return key_ending_at(s, i, out, cap);
}

pb_err pb_json_parse(const char *body, size_t len, const char *content_type,
                     const pb_json_field *fields, size_t n, json_t **root, pb_json_error *err)
{
    *root = NULL;
    if (content_type && !media_type_json(content_type))
        return fail(err, PB_ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                    "the body must be sent as Content-Type: application/json");
    if (!pb_utf8_valid(body, len))
        return fail(err, PB_ERR_INVALID_UTF8, NULL, "the body is not valid UTF-8");
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!doc) {
        char key[128];
        size_t pos = je.position < 0 ? 0 : (size_t)je.position;
        switch (json_error_code(&je)) {
        case json_error_numeric_overflow:
            if (key_before_number(body, len, pos, key, sizeof key))
                return fail(err, PB_ERR_FIELD_INVALID, key, "%s: number out of range", key);
            return fail(err, PB_ERR_FIELD_INVALID, NULL, "a number is out of range (byte %zu)",
                        pos);
        case json_error_duplicate_key:
            if (key_ending_at(body, pos > len ? len : pos, key, sizeof key))
                return fail(err, PB_ERR_INVALID_JSON, key, "%s: duplicate key", key);
            return fail(err, PB_ERR_INVALID_JSON, NULL, "duplicate key (byte %zu)", pos);
        case json_error_invalid_utf8:
            return fail(err, PB_ERR_INVALID_UTF8, NULL, "the body is not valid UTF-8");
        default:
            return fail(err, PB_ERR_INVALID_JSON, NULL, "invalid JSON at byte %zu: %s", pos,
                        je.text);
        }
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fail(err, PB_ERR_INVALID_REQUEST, NULL, "the body must be a JSON object");
    }
    pb_err rc = pb_json_check(doc, fields, n, err);
    if (rc != PB_OK) {
        json_decref(doc);
        return rc;
    }
    *root = doc;
    return PB_OK;
}

/* The spec entry named `name`, or NULL. */
static const pb_json_field *spec_find(const pb_json_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* True when s is a plain decimal: optional '-', digits, optional '.' and digits. */
static bool decimal_shape(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && s[i] == '-')
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        size_t frac = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, frac++;
        if (frac == 0)
            return false;
    }
    return i == len && digits > 0;
}

/* The currency named by the spec's sibling field; reports its own errors. */
static pb_err money_currency(json_t *obj, const pb_json_field *f, const pb_currency **cur,
                             pb_json_error *err)
{
    json_t *c = json_object_get(obj, f->currency);
    if (!c || json_is_null(c))
        return fail(err, PB_ERR_FIELD_MISSING, f->currency, "%s: required with %s", f->currency,
                    f->name);
    if (!json_is_string(c) ||
        !(*cur = pb_currency_findn(json_string_value(c), json_string_length(c))))
        return fail(err, PB_ERR_FIELD_INVALID, f->currency, "%s: not a supported currency",
                    f->currency);
    return PB_OK;
}

/* True when the spec gives an inclusive range. */
static bool has_range(const pb_json_field *f) { return f->min != 0 || f->max != 0; }

/* Checks the string length bounds of a string-typed field. */
static pb_err check_string(json_t *v, const pb_json_field *f, size_t max_default,
                           pb_json_error *err)
{
    if (!json_is_string(v))
        return fail(err, PB_ERR_FIELD_INVALID, f->name, "%s: must be a string", f->name);
    size_t len = json_string_length(v), max = f->max_len ? f->max_len : max_default;
    if (len < f->min_len)
        return fail(err, PB_ERR_FIELD_INVALID, f->name, "%s: must be at least %zu bytes", f->name,
                    f->min_len);
    if (len > max)
        return fail(err, PB_ERR_FIELD_INVALID, f->name, "%s: must be at most %zu bytes", f->name,
                    max);
    if (f->str)
        *f->str = json_string_value(v);
    return PB_OK;
}

/* Validates one present value and writes its outputs. */
static pb_err check_value(json_t *obj, json_t *v, const pb_json_field *f, pb_json_error *err)
{
    const char *nm = f->name;
    switch (f->type) {
    case PB_JSON_STRING: return check_string(v, f, DEFAULT_MAX_STRING, err);
    case PB_JSON_INT: {
        if (!json_is_integer(v))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be an integer", nm);
        int64_t x = (int64_t)json_integer_value(v);
        if (has_range(f) && (x < f->min || x > f->max))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be between %lld and %lld", nm,
                        (long long)f->min, (long long)f->max);
        if (f->i64)
            *f->i64 = x;
        return PB_OK;
    }
    case PB_JSON_BOOL:
        if (!json_is_boolean(v))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be true or false", nm);
        if (f->b)
            *f->b = json_is_true(v);
        return PB_OK;
    case PB_JSON_MONEY: {
        if (!json_is_string(v) || !decimal_shape(json_string_value(v), json_string_length(v)) ||
            json_string_length(v) >= PB_MONEY_STR_MAX)
            return fail(err, PB_ERR_FIELD_INVALID, nm,
                        "%s: must be a decimal string like \"10.00\"", nm);
        if (f->currency) {
            const pb_currency *cur = NULL;
            pb_err rc = money_currency(obj, f, &cur, err);
            if (rc != PB_OK)
                return rc;
            int64_t minor;
            pb_money_status ms = pb_money_parse(json_string_value(v), json_string_length(v), cur,
                                                &minor);
            if (ms != PB_MONEY_OK)
                return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: %s", nm,
                            ms == PB_MONEY_OVERFLOW ? "amount out of range"
                                                    : "not a valid amount in this currency");
            if (has_range(f) && (minor < f->min || minor > f->max))
                return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: amount out of the allowed range",
                            nm);
            if (f->i64)
                *f->i64 = minor;
        }
        if (f->str)
            *f->str = json_string_value(v);
        return PB_OK;
    }
    case PB_JSON_CURRENCY: {
        const pb_currency *cur = json_is_string(v) ? pb_currency_findn(json_string_value(v),
                                                                       json_string_length(v))
                                                   : NULL;
        if (!cur)
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: not a supported currency", nm);
        if (f->cur)
            *f->cur = cur;
        if (f->str)
            *f->str = json_string_value(v);
        return PB_OK;
    }
    case PB_JSON_UUID: {
        pb_id id;
        if (!json_is_string(v) || pb_id_parse(json_string_value(v), json_string_length(v), &id))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be a UUID", nm);
        if (f->id)
            *f->id = id;
        if (f->str)
            *f->str = json_string_value(v);
        return PB_OK;
    }
    case PB_JSON_TIME: {
        int64_t us;
        if (!json_is_string(v) || pb_time_parse(json_string_value(v), json_string_length(v), &us))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be an RFC 3339 date-time", nm);
        if (f->i64)
            *f->i64 = us;
        if (f->str)
            *f->str = json_string_value(v);
        return PB_OK;
    }
    case PB_JSON_OBJECT:
        if (!json_is_object(v))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be an object", nm);
        if (f->json)
            *f->json = v;
        return PB_OK;
    case PB_JSON_ARRAY: {
        if (!json_is_array(v))
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must be an array", nm);
        size_t items = json_array_size(v), max = f->max_len ? f->max_len : DEFAULT_MAX_ITEMS;
        if (items < f->min_len || items > max)
            return fail(err, PB_ERR_FIELD_INVALID, nm, "%s: must have %zu to %zu items", nm,
                        f->min_len, max);
        if (f->json)
            *f->json = v;
        return PB_OK;
    }
    }
    return fail(err, PB_ERR_INTERNAL, nm, "%s: unknown field type in the spec", nm);
}

pb_err pb_json_check(json_t *obj, const pb_json_field *fields, size_t n, pb_json_error *err)
{
    if (!json_is_object(obj))
        return fail(err, PB_ERR_INVALID_REQUEST, NULL, "expected a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!spec_find(fields, n, key))
            return fail(err, PB_ERR_UNKNOWN_FIELD, key, "this endpoint does not accept the field");
    }
    for (size_t i = 0; i < n; i++) {
        const pb_json_field *f = &fields[i];
        v = json_object_get(obj, f->name);
        if (v && json_is_null(v) && f->nullable)
            v = NULL;
        if (!v) {
            if (f->required)
                return fail(err, PB_ERR_FIELD_MISSING, f->name, "%s: required", f->name);
            continue;
        }
        if (json_is_null(v))
            return fail(err, PB_ERR_FIELD_INVALID, f->name, "%s: must not be null", f->name);
        pb_err rc = check_value(obj, v, f, err);
        if (rc != PB_OK)
            return rc;
        if (f->present)
            *f->present = true;
    }
    err->code = PB_OK;
    err->field = NULL;
    err->message[0] = '\0';
    return PB_OK;
}
