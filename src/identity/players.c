/*
 * players.c — player registration, login, profile, block/unblock and search.
 *
 * Registration validates everything before it writes (and names the field),
 * refuses a duplicate email before paying for the password hash, hashes outside
 * any transaction, and inserts in a short transaction of its own. Ages are
 * computed on the UTC calendar date of `now`: a player born on this day 18 years
 * ago may register, one born a day later may not (29 February birthdays come of
 * age on 1 March in common years).
 *
 * The date of birth and the names are sealed (pii.c) once the player's public
 * id exists, just before the insert, and opened by the view every read builds;
 * one that does not open is left '' and flagged (pb_player.pii_unavailable).
 * The search hands the store pii.c's matcher for its name filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/log.h"
#include "core/money.h"
#include "events/events.h"
#include "identity/identity_internal.h"

#define DEFAULT_PAGE 50
#define MAX_PAGE 200

static const char *const STATUS_NAMES[] = {
    [PB_PLAYER_ACTIVE] = "active",
    [PB_PLAYER_BLOCKED] = "blocked",
    [PB_PLAYER_SELF_EXCLUDED] = "self_excluded",
    [PB_PLAYER_CLOSED] = "closed",
};
#define NSTATUS (sizeof STATUS_NAMES / sizeof STATUS_NAMES[0])

/* The stored name of a status. */
const char *pb_player_status_name(pb_player_status s)
{
    return (unsigned)s < NSTATUS ? STATUS_NAMES[s] : "unknown";
}

/* Exact match on the stored names. */
pb_err pb_player_status_parse(const char *name, pb_player_status *out)
{
    for (size_t i = 0; name && i < NSTATUS; i++) {
        if (strcmp(name, STATUS_NAMES[i]) == 0) {
            *out = (pb_player_status)i;
            return PB_OK;
        }
    }
    return PB_ERR_FIELD_INVALID;
}

/* The civil (proleptic Gregorian) date of a day count since 1970-01-01. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Parses a real calendar date "YYYY-MM-DD" (years 1900-9999). */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
    static const int MDAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    if (*y < 1900 || *m < 1 || *m > 12 || *d < 1)
        return false;
    bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    return *d <= MDAYS[*m - 1] + (*m == 2 && leap);
}

/* FIELD_INVALID for a malformed or future date, AGE_RESTRICTED under 18 on now's date. */
static pb_err check_age(const char *dob, int64_t now)
{
    int y, m, d, ty, tm, td;
    if (!parse_date(dob, &y, &m, &d))
        return PB_ERR_FIELD_INVALID;
    int64_t days = now / 86400000000;
    if (now < 0 && now % 86400000000)
        days--;
    civil_from_days(days, &ty, &tm, &td);
    long born = (long)y * 10000 + m * 100 + d, today = (long)ty * 10000 + tm * 100 + td;
    if (born > today)
        return PB_ERR_FIELD_INVALID;
    return born + 18 * 10000 <= today ? PB_OK : PB_ERR_AGE_RESTRICTED;
}

/* The API view of a player row; pii: with the sealed names and date of birth
 * opened (about 1.6 µs each), else left empty. */
static void view(const pb_store_player *r, pb_player *out, bool pii)
{
    memset(out, 0, sizeof *out);
    out->id = r->id;
    pb_strlcpy(out->public_id, r->public_id, sizeof out->public_id);
    out->brand_id = r->brand_id;
    pb_strlcpy(out->email, r->email, sizeof out->email);
    pb_strlcpy(out->country, r->country, sizeof out->country);
    out->pii_unavailable = pii && (!pb_pii_open(r->public_id, "date_of_birth", r->date_of_birth,
                                                out->date_of_birth, sizeof out->date_of_birth) |
                                   !pb_pii_open(r->public_id, "first_name", r->first_name,
                                                out->first_name, sizeof out->first_name) |
                                   !pb_pii_open(r->public_id, "last_name", r->last_name,
                                                out->last_name, sizeof out->last_name));
    pb_strlcpy(out->currency, r->currency, sizeof out->currency);
    if (pb_player_status_parse(r->status, &out->status) != PB_OK)
        out->status = PB_PLAYER_BLOCKED; /* unknown to this build: fail closed */
    pb_strlcpy(out->block_reason, r->block_reason, sizeof out->block_reason);
    out->locked_until = r->locked_until;
    out->last_login_at = r->last_login_at;
    out->created_at = r->created_at;
    out->updated_at = r->updated_at;
    out->erased_at = r->erased_at;
}

/* An optional name: NULL stays ''; otherwise trimmed of spaces, 1..100 characters
 * without control characters, copied into out (PB_PLAYER_NAME_MAX + 1 bytes). */
static bool name_ok(const char *in, char *out)
{
    out[0] = '\0';
    if (!in)
        return true;
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
        chars += (ch & 0xC0) != 0x80;
    }
    if (chars < 1 || chars > 100 || n > PB_PLAYER_NAME_MAX)
        return false;
    memcpy(out, in, n);
    out[n] = '\0';
    return true;
}

/* The first problem of a registration's fields (brand aside): its code and field. */
static pb_err check_fields(const pb_player_registration *reg, const pb_brand *b, const char *cur,
                           int64_t now, pb_store_player *row, const char **bad)
{
    pb_err e;
    if (!reg->email || !reg->password || !reg->country || !reg->date_of_birth) {
        *bad = !reg->email      ? "email"
               : !reg->password ? "password"
               : !reg->country  ? "country"
                                : "date_of_birth";
        return PB_ERR_FIELD_MISSING;
    }
    if (!pb_email_normalize(reg->email, row->email)) {
        *bad = "email";
        return PB_ERR_FIELD_INVALID;
    }
    if ((e = pb_password_policy(reg->password, row->email)) != PB_OK) {
        *bad = "password";
        return e;
    }
    if (!pb_tenancy_country_valid(reg->country)) {
        *bad = "country";
        return PB_ERR_COUNTRY_INVALID;
    }
    if ((e = check_age(reg->date_of_birth, now)) != PB_OK) {
        *bad = "date_of_birth";
        return e;
    }
    if (!name_ok(reg->first_name, row->first_name) || !name_ok(reg->last_name, row->last_name)) {
        *bad = !name_ok(reg->first_name, row->first_name) ? "first_name" : "last_name";
        return PB_ERR_FIELD_INVALID;
    }
    if (!pb_currency_find(cur) || !pb_tenancy_currency_allowed(b, cur)) {
        *bad = "currency";
        return pb_currency_find(cur) ? PB_ERR_CURRENCY_NOT_ALLOWED : PB_ERR_CURRENCY_UNKNOWN;
    }
    return PB_OK;
}

/* Validates a registration into row (everything but the hash). */
static pb_err validate(pb_store_conn *c, const pb_player_registration *reg, int64_t now,
                       pb_store_player *row, const char **bad)
{
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = pb_tenancy_brand_by_code(c, reg->brand_code ? reg->brand_code : "", b);
    if (e == PB_OK && !pb_tenancy_brand_active(b))
        e = PB_ERR_FORBIDDEN;
    if (e != PB_OK) {
        *bad = "brand";
        free(b);
        return e;
    }
    row->brand_id = b->id;
    const char *cur = reg->currency ? reg->currency : b->default_currency;
    e = check_fields(reg, b, cur, now, row, bad);
    if (e == PB_OK) {
        pb_strlcpy(row->country, reg->country, sizeof row->country);
        pb_strlcpy(row->date_of_birth, reg->date_of_birth, sizeof row->date_of_birth);
        pb_strlcpy(row->currency, cur, sizeof row->currency); /* cur may point into b */
    }
    free(b);
    return e;
}

/* Seals the row's date of birth and names (pii.c): INTERNAL when one does not fit. */
static pb_err seal_pii(pb_store_player *row)
{
    bool ok = pb_pii_seal(row->public_id, "date_of_birth", row->date_of_birth, row->date_of_birth,
                          sizeof row->date_of_birth) &&
              pb_pii_seal(row->public_id, "first_name", row->first_name, row->first_name,
                          sizeof row->first_name) &&
              pb_pii_seal(row->public_id, "last_name", row->last_name, row->last_name,
                          sizeof row->last_name);
    return ok ? PB_OK : PB_ERR_INTERNAL;
}

/* What the insert transaction of a registration needs. */
typedef struct register_ctx {
    pb_store_player *row;
    const char *brand_code;
} register_ctx;

/* The insert transaction of a registration (and its event, @events). */
static pb_err register_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    register_ctx *x = ctx;
    pb_store_rc r = pb_store_player_insert(c, x->row);
    if (r == PB_STORE_OK)
        return pb_events_emit(c, "player.registered", x->brand_code, x->row->public_id, NULL,
                              x->row->created_at, PB_EV_STR("currency", x->row->currency));
    return r == PB_STORE_CONFLICT ? PB_ERR_EMAIL_TAKEN
                                  : pb_id_store_err(c, r, PB_ERR_INTERNAL, "player insert");
}

/* Rate limit, validate, refuse a duplicate, hash, insert (see the file comment). */
pb_err pb_identity_player_register(pb_identity *id, pb_store_conn *c,
                                   const pb_player_registration *reg, const pb_client_info *client,
                                   int64_t now, pb_player *out, const char **bad_field)
{
    const char *bad_sink;
    if (!bad_field)
        bad_field = &bad_sink;
    *bad_field = NULL;
    int64_t retry;
    pb_err e = pb_login_limit_ip(id, client, now, &retry);
    if (e != PB_OK)
        return e;
    pb_store_player *row = calloc(1, sizeof *row);
    if (!row)
        return PB_ERR_INTERNAL;
    e = validate(c, reg, now, row, bad_field);
    if (e == PB_OK) { /* refuse a taken email before paying for a hash */
        pb_store_player *dup = malloc(sizeof *dup);
        pb_store_rc r = dup ? pb_store_player_by_email(c, row->brand_id, row->email, dup)
                            : PB_STORE_ERROR;
        e = r == PB_STORE_OK ? PB_ERR_EMAIL_TAKEN : pb_id_store_err(c, r, PB_OK, "player by email");
        free(dup);
        if (e == PB_ERR_EMAIL_TAKEN)
            *bad_field = "email";
    }
    if (e == PB_OK)
        e = pb_password_hash(reg->password, row->password_hash);
    if (e == PB_OK) {
        pb_id pid;
        pb_id_new(&pid);
        pb_id_to_string(&pid, row->public_id);
        snprintf(row->status, sizeof row->status, "active");
        row->created_at = row->updated_at = now;
        e = seal_pii(row); /* bound to the public id: sealed once it exists */
    }
    if (e == PB_OK) {
        register_ctx x = {row, reg->brand_code};
        e = pb_id_tx(c, register_tx, &x);
        if (e == PB_ERR_EMAIL_TAKEN)
            *bad_field = "email";
    }
    if (e == PB_OK && out)
        view(row, out, true); /* the registration answer shows what was given */
    sodium_memzero(row->password_hash, sizeof row->password_hash);
    free(row);
    return e;
}

/* Brand, password step, status, optional rehash, then the session. */
pb_err pb_identity_player_login(pb_identity *id, pb_store_conn *c, const pb_login_request *req,
                                const pb_client_info *client, int64_t now, pb_auth_tokens *out)
{
    memset(out, 0, sizeof *out);
    pb_brand *b = malloc(sizeof *b);
    pb_login_subject *s = calloc(1, sizeof *s);
    pb_err e = b && s ? pb_tenancy_brand_by_code(c, req->brand_code ? req->brand_code : "", b)
                      : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_login_password(id, c, PB_SUBJECT_PLAYER, b->id, req->email, req->password, client,
                              now, s, out);
    if (e == PB_OK && strcmp(s->player.status, "active") != 0)
        e = PB_ERR_PLAYER_BLOCKED;
    char rehash[PB_PASSWORD_HASH_MAX + 1];
    bool upgrade = e == PB_OK && pb_password_needs_rehash(s->player.password_hash) &&
                   pb_password_hash(req->password, rehash) == PB_OK;
    if (e == PB_OK) {
        pb_session_open so = {.subject = s,
                              .brand_code = b->code,
                              .scope = PB_SCOPE_FULL,
                              .new_hash = upgrade ? rehash : NULL};
        e = pb_session_open_tx(id, c, &so, client, now, out);
    }
    if (e != PB_OK && s) {
        /* the right password, refused for another reason (not active, a failure
         * opening the session): the attempt counted before the verify is given
         * back (login.c) */
        pb_err u = pb_login_uncount(id, c, s, now);
        if (u != PB_OK)
            pb_log(PB_LOG_WARN, "identity.login_uncount", "player %s: %s", s->player.public_id,
                   pb_err_code(u));
    }
    if (s)
        sodium_memzero(s, sizeof *s);
    free(s);
    free(b);
    return e;
}

/* Reads a player by public id, hiding one outside the scope. */
static pb_err get_scoped(pb_store_conn *c, const pb_brand_scope *scope, const char *public_id,
                         pb_store_player *row)
{
    pb_err e = pb_id_store_err(c, pb_store_player_by_public_id(c, public_id ? public_id : "", row),
                               PB_ERR_PLAYER_NOT_FOUND, "player get");
    if (e == PB_OK && !pb_brand_scope_allows(scope, row->brand_id))
        e = PB_ERR_PLAYER_NOT_FOUND;
    return e;
}

/* A player within the scope, the sealed personal data opened when pii. */
static pb_err get_view(pb_store_conn *c, const pb_brand_scope *scope, const char *public_id,
                       pb_player *out, bool pii)
{
    pb_store_player row;
    pb_err e = get_scoped(c, scope, public_id, &row);
    if (e == PB_OK)
        view(&row, out, pii);
    return e;
}

pb_err pb_identity_player_get(pb_store_conn *c, const pb_brand_scope *scope, const char *public_id,
                              pb_player *out)
{
    return get_view(c, scope, public_id, out, false);
}

pb_err pb_identity_player_get_pii(pb_store_conn *c, const pb_brand_scope *scope,
                                  const char *public_id, pb_player *out)
{
    return get_view(c, scope, public_id, out, true);
}

pb_err pb_identity_player_status(pb_store_conn *c, const char *public_id, pb_player_status *out)
{
    char status[PB_STATUS_MAX + 1];
    pb_err e = pb_id_store_err(c, pb_store_player_status(c, public_id ? public_id : "", status),
                               PB_ERR_PLAYER_NOT_FOUND, "player status");
    if (e == PB_OK && pb_player_status_parse(status, out) != PB_OK)
        e = PB_ERR_INTERNAL; /* the schema's CHECK allows only the four */
    return e;
}

/* Sets the status and reason, then ends every session of the player. */
pb_err pb_identity_player_block(pb_store_conn *c, const pb_brand_scope *scope,
                                const char *public_id, const char *reason, int64_t now)
{
    size_t n = reason ? strlen(reason) : 0;
    if (n == 0 || n > PB_REASON_MAX)
        return PB_ERR_FIELD_INVALID;
    pb_store_player row;
    pb_err e = get_scoped(c, scope, public_id, &row);
    if (e != PB_OK)
        return e;
    if (strcmp(row.status, "active") != 0 && strcmp(row.status, "blocked") != 0)
        return PB_ERR_FORBIDDEN; /* self-excluded or closed: not a support decision */
    e = pb_id_store_err(c, pb_store_player_set_status(c, row.id, "blocked", reason, now),
                        PB_ERR_PLAYER_NOT_FOUND, "player block");
    if (e == PB_OK)
        e = pb_id_store_err(c,
                            pb_store_session_revoke_subject(c, "player", row.id, 0, now, "blocked",
                                                            NULL),
                            PB_ERR_INTERNAL, "player sessions revoke");
    return e;
}

/* Returns a blocked player to active; active stays active. */
pb_err pb_identity_player_unblock(pb_store_conn *c, const pb_brand_scope *scope,
                                  const char *public_id, int64_t now)
{
    pb_store_player row;
    pb_err e = get_scoped(c, scope, public_id, &row);
    if (e != PB_OK || strcmp(row.status, "active") == 0)
        return e;
    if (strcmp(row.status, "blocked") != 0)
        return PB_ERR_FORBIDDEN;
    return pb_id_store_err(c, pb_store_player_set_status(c, row.id, "active", "", now),
                           PB_ERR_PLAYER_NOT_FOUND, "player unblock");
}

/* Scope to brand ids, lower-cased email prefixes, checked country and status, the name
 * matcher, one query. */
pb_err pb_identity_player_find(pb_store_conn *c, const pb_brand_scope *scope,
                               pb_store_player_find_query *q, pb_store_player_hit *out, size_t cap,
                               size_t *n, char lower[2][PB_EMAIL_MAX + 1], const char **bad_field)
{
    *n = 0;
    *bad_field = NULL;
    pb_player_status st;
    if (q->country && !pb_tenancy_country_valid(q->country))
        *bad_field = "country";
    else if (q->status && pb_player_status_parse(q->status, &st) != PB_OK)
        *bad_field = "status";
    if (*bad_field)
        return PB_ERR_FIELD_INVALID;
    if (q->brand_id != 0 && !pb_brand_scope_allows(scope, q->brand_id))
        return PB_ERR_BRAND_FORBIDDEN;
    q->name_match = pb_pii_name_match; /* names are sealed: the store asks us */
    q->name_match_ctx = NULL;
    q->all_brands = !scope || scope->all;
    q->brand_ids = q->all_brands ? NULL : scope->brand_ids;
    q->nbrands = q->all_brands ? 0 : scope->n;
    const char **emails[2] = {&q->q_email, &q->email_prefix};
    for (int k = 0; k < 2; k++) {
        const char *src = *emails[k];
        if (!src)
            continue;
        size_t i = 0;
        for (; i < PB_EMAIL_MAX && src[i]; i++)
            lower[k][i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] + 32) : src[i];
        lower[k][i] = 0;
        *emails[k] = lower[k];
    }
    return pb_id_store_err(c, pb_store_player_find(c, q, out, cap, n), PB_ERR_INTERNAL,
                           "player find");
}
