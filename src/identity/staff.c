/*
 * staff.c — back-office staff: creation (with a one-time password), the first
 * admin, login with TOTP, lookups and changes of role, brand scope and status.
 *
 * A new member gets a random one-time password, shown once, and must change it
 * and enrol TOTP before a full session: until then a login yields a short
 * "setup" session that the API confines to those two steps. Every change of
 * role, scope, status or TOTP ends the member's sessions, so a token never
 * carries rights its holder lost. A TOTP reset replaces the password with a new
 * one-time password too (pb_staff_update.reset_totp), so the member goes through
 * that first login again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

/* The public fields of a staff row, with its scope. */
pb_err pb_staff_view(pb_store_conn *c, const pb_store_staff *row, pb_staff *out)
{
    memset(out, 0, sizeof *out);
    out->id = row->id;
    snprintf(out->public_id, sizeof out->public_id, "%s", row->public_id);
    snprintf(out->email, sizeof out->email, "%s", row->email);
    if (pb_role_parse(row->role, &out->role) != PB_OK) {
        pb_log(PB_LOG_ERROR, "identity.staff", "staff %s has an unknown role", row->public_id);
        return PB_ERR_INTERNAL;
    }
    out->active = strcmp(row->status, "active") == 0;
    out->must_change_password = row->must_change_password;
    out->totp_enrolled = row->totp_enrolled;
    out->locked_until = row->locked_until;
    out->last_login_at = row->last_login_at;
    out->created_at = row->created_at;
    out->updated_at = row->updated_at;
    out->scope.all = row->all_brands;
    if (row->all_brands)
        return PB_OK;
    return pb_id_store_err(c,
                           pb_store_staff_brands_get(c, row->id, out->scope.brand_ids,
                                                     PB_SCOPE_MAX_BRANDS, &out->scope.n),
                           PB_ERR_INTERNAL, "staff brands");
}

/* Resolves brand codes to sorted, distinct ids. */
static pb_err resolve_brands(pb_store_conn *c, const char *const *codes, size_t n, int64_t *ids,
                             size_t *nids, const char **bad)
{
    *nids = 0;
    if (n == 0 || n > PB_SCOPE_MAX_BRANDS) {
        *bad = "brands";
        return PB_ERR_FIELD_INVALID;
    }
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    for (size_t i = 0; e == PB_OK && i < n; i++) {
        e = pb_tenancy_brand_by_code(c, codes[i] ? codes[i] : "", b);
        if (e != PB_OK) {
            *bad = "brands";
            break;
        }
        size_t j = 0;
        while (j < *nids && ids[j] < b->id)
            j++;
        if (j < *nids && ids[j] == b->id)
            continue;
        memmove(ids + j + 1, ids + j, (*nids - j) * sizeof *ids);
        ids[j] = b->id;
        (*nids)++;
    }
    free(b);
    return e;
}

/* Checks a role / scope combination: only admin and auditor may see every brand. */
static pb_err check_scope(pb_role role, bool all_brands, size_t nbrands, const char **bad)
{
    if ((unsigned)role >= PB_ROLE_COUNT_) {
        *bad = "role";
        return PB_ERR_ROLE_INVALID;
    }
    if (all_brands && !pb_role_may_be_global(role)) {
        *bad = "all_brands";
        return PB_ERR_ROLE_INVALID;
    }
    if (!all_brands && nbrands == 0) {
        *bad = "brands";
        return PB_ERR_FIELD_INVALID;
    }
    return PB_OK;
}

typedef struct create_ctx {
    pb_store_staff *row;
    const int64_t *ids;
    size_t nids;
    const pb_staff_create *req;
} create_ctx;

/* Inserts the member and their scope. */
static pb_err create_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    create_ctx *x = ctx;
    pb_store_rc r = pb_store_staff_insert(c, x->row);
    if (r == PB_STORE_CONFLICT)
        return PB_ERR_EMAIL_TAKEN;
    if (r == PB_STORE_OK && !x->row->all_brands)
        r = pb_store_staff_brands_set(c, x->row->id, x->ids, x->nids);
    pb_err e = pb_id_store_err(c, r, PB_ERR_INTERNAL, "staff insert");
    if (e != PB_OK || !x->req->in_tx)
        return e;
    pb_staff *v = malloc(sizeof *v); /* the caller's work, with the member as shown */
    e = v ? pb_staff_view(c, x->row, v) : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = x->req->in_tx(c, v, x->req->in_tx_ctx);
    free(v);
    return e;
}

/* Validate, refuse a duplicate, make and hash a one-time password, insert with the scope. */
pb_err pb_identity_staff_create(pb_store_conn *c, const pb_staff_create *req, int64_t now,
                                pb_staff *out, char one_time_password[PB_ONE_TIME_PASSWORD_MAX],
                                const char **bad_field)
{
    const char *bad_sink;
    if (!bad_field)
        bad_field = &bad_sink;
    *bad_field = NULL;
    pb_store_staff *row = calloc(1, sizeof *row);
    if (!row)
        return PB_ERR_INTERNAL;
    int64_t ids[PB_SCOPE_MAX_BRANDS];
    size_t nids = 0;
    pb_err e = PB_OK;
    if (!pb_email_normalize(req->email, row->email)) {
        *bad_field = "email";
        e = PB_ERR_FIELD_INVALID;
    }
    if (e == PB_OK)
        e = check_scope(req->role, req->all_brands, req->all_brands ? 1 : req->nbrands, bad_field);
    if (e == PB_OK && !req->all_brands)
        e = resolve_brands(c, req->brand_codes, req->nbrands, ids, &nids, bad_field);
    if (e == PB_OK) {
        pb_store_staff *dup = malloc(sizeof *dup);
        pb_store_rc r = dup ? pb_store_staff_by_email(c, row->email, dup) : PB_STORE_ERROR;
        e = r == PB_STORE_OK ? PB_ERR_EMAIL_TAKEN : pb_id_store_err(c, r, PB_OK, "staff by email");
        free(dup);
        if (e == PB_ERR_EMAIL_TAKEN)
            *bad_field = "email";
    }
    if (e == PB_OK) {
        pb_password_one_time(one_time_password);
        e = pb_password_hash(one_time_password, row->password_hash);
    }
    if (e == PB_OK) {
        pb_id pid;
        pb_id_new(&pid);
        pb_id_to_string(&pid, row->public_id);
        snprintf(row->role, sizeof row->role, "%s", pb_role_name(req->role));
        snprintf(row->status, sizeof row->status, "active");
        row->all_brands = req->all_brands;
        row->must_change_password = true;
        row->created_at = row->updated_at = now;
        create_ctx x = {.row = row, .ids = ids, .nids = nids, .req = req};
        e = pb_id_tx(c, create_tx, &x);
        if (e == PB_ERR_EMAIL_TAKEN)
            *bad_field = "email";
    }
    if (e == PB_OK && out)
        e = pb_staff_view(c, row, out);
    if (e == PB_OK)
        pb_log(PB_LOG_INFO, "identity.staff", "created staff %s with role %s", row->public_id,
               row->role);
    else
        sodium_memzero(one_time_password, PB_ONE_TIME_PASSWORD_MAX);
    sodium_memzero(row, sizeof *row);
    free(row);
    return e;
}

/* An admin who sees every brand. */
pb_err pb_identity_admin_bootstrap(pb_store_conn *c, const char *email, int64_t now, pb_staff *out,
                                   char one_time_password[PB_ONE_TIME_PASSWORD_MAX])
{
    pb_staff_create req = {.email = email, .role = PB_ROLE_ADMIN, .all_brands = true};
    return pb_identity_staff_create(c, &req, now, out, one_time_password, NULL);
}

/* The password step, then status, then TOTP (or a setup session), then the session. */
pb_err pb_identity_staff_login(pb_identity *id, pb_store_conn *c, const pb_login_request *req,
                               const pb_client_info *client, int64_t now, pb_auth_tokens *out)
{
    memset(out, 0, sizeof *out);
    pb_login_subject *s = malloc(sizeof *s);
    if (!s)
        return PB_ERR_INTERNAL;
    pb_err e = pb_login_password(id, c, PB_SUBJECT_STAFF, 0, req->email, req->password, client, now,
                                 s, out);
    pb_store_staff *st = &s->staff;
    if (e == PB_OK && strcmp(st->status, "active") != 0)
        e = PB_ERR_FORBIDDEN;
    pb_session_open so = {.subject = s, .scope = PB_SCOPE_FULL};
    if (e == PB_OK && st->totp_enrolled) {
        if (!req->totp_code || !*req->totp_code)
            e = PB_ERR_TOTP_REQUIRED;
        else
            e = pb_totp_verify_staff(id, st, req->totp_code, now, &so.totp_step);
        if (e == PB_ERR_TOTP_INVALID)
            e = pb_login_second_factor_failure(id, c, s, now, PB_ERR_TOTP_INVALID, out);
        if (st->must_change_password)
            so.scope = PB_SCOPE_SETUP;
    } else if (e == PB_OK) {
        so.scope = PB_SCOPE_SETUP;
        out->totp_enrollment_required = true;
    }
    char rehash[PB_PASSWORD_HASH_MAX + 1];
    if (e == PB_OK && pb_password_needs_rehash(st->password_hash) &&
        pb_password_hash(req->password, rehash) == PB_OK)
        so.new_hash = rehash;
    if (e == PB_OK) {
        out->must_change_password = st->must_change_password;
        e = pb_session_open_tx(id, c, &so, client, now, out);
    }
    if (e != PB_OK) {
        out->must_change_password = false;
        out->totp_enrollment_required = false;
        /* the right password, refused for another reason (inactive, TOTP missing,
         * a failure opening the session): the attempt counted before the verify is
         * given back (login.c); a wrong TOTP code has settled it as a failure */
        pb_err u = pb_login_uncount(id, c, s, now);
        if (u != PB_OK)
            pb_log(PB_LOG_WARN, "identity.login_uncount", "staff %s: %s", st->public_id,
                   pb_err_code(u));
    }
    sodium_memzero(s, sizeof *s);
    free(s);
    return e;
}

/* A staff member's public view. */
pb_err pb_identity_staff_get(pb_store_conn *c, const char *public_id, pb_staff *out)
{
    pb_store_staff row;
    pb_err e = pb_id_store_err(c, pb_store_staff_by_public_id(c, public_id ? public_id : "", &row),
                               PB_ERR_STAFF_NOT_FOUND, "staff get");
    if (e == PB_OK)
        e = pb_staff_view(c, &row, out);
    sodium_memzero(&row, sizeof row);
    return e;
}

/* A page of staff in id order. */
pb_err pb_identity_staff_list(pb_store_conn *c, int64_t after_id, pb_staff *out, size_t cap,
                              size_t *n)
{
    *n = 0;
    pb_store_staff *rows = cap ? calloc(cap, sizeof *rows) : NULL;
    if (cap && !rows)
        return PB_ERR_INTERNAL;
    size_t got = 0;
    pb_err e = cap ? pb_id_store_err(c, pb_store_staff_list(c, after_id, rows, cap, &got),
                                     PB_ERR_INTERNAL, "staff list")
                   : PB_OK;
    for (size_t i = 0; e == PB_OK && i < got; i++)
        e = pb_staff_view(c, &rows[i], &out[i]);
    if (e == PB_OK)
        *n = got;
    if (rows)
        sodium_memzero(rows, cap * sizeof *rows);
    free(rows);
    return e;
}

pb_err pb_identity_staff_one_time(pb_staff_one_time *out)
{
    pb_password_one_time(out->password);
    pb_err e = pb_password_hash(out->password, out->hash);
    if (e != PB_OK)
        sodium_memzero(out, sizeof *out);
    return e;
}

/* Validates the whole change first, then writes it and ends the member's sessions. */
pb_err pb_identity_staff_update(pb_store_conn *c, const char *public_id, const pb_staff_update *u,
                                int64_t now, pb_staff *out, const char **bad_field)
{
    const char *bad_sink;
    if (!bad_field)
        bad_field = &bad_sink;
    *bad_field = NULL;
    pb_store_staff row;
    pb_err e = pb_id_store_err(c, pb_store_staff_by_public_id(c, public_id ? public_id : "", &row),
                               PB_ERR_STAFF_NOT_FOUND, "staff get");
    pb_role role = PB_ROLE_COUNT_;
    if (e == PB_OK && pb_role_parse(row.role, &role) != PB_OK)
        e = PB_ERR_INTERNAL;
    int64_t ids[PB_SCOPE_MAX_BRANDS];
    size_t nids = 0;
    if (e == PB_OK && u->brand_codes)
        e = resolve_brands(c, u->brand_codes, u->nbrands, ids, &nids, bad_field);
    else if (e == PB_OK)
        e = pb_id_store_err(c,
                            pb_store_staff_brands_get(c, row.id, ids, PB_SCOPE_MAX_BRANDS, &nids),
                            PB_ERR_INTERNAL, "staff brands");
    pb_role new_role = u->role ? *u->role : role;
    bool all = u->all_brands ? *u->all_brands : row.all_brands;
    if (e == PB_OK)
        e = check_scope(new_role, all, nids, bad_field);
    bool active = u->active ? *u->active : strcmp(row.status, "active") == 0;
    if (e == PB_OK && u->reset_totp && (!u->reset_password || !u->reset_password->hash[0])) {
        pb_log(PB_LOG_ERROR, "identity.staff", "TOTP reset of %s without a new one-time password",
               row.public_id);
        e = PB_ERR_INTERNAL; /* never the seed alone: the old password would enrol again */
    }
    if (e == PB_OK && u->reset_totp && !u->by_role) {
        pb_log(PB_LOG_ERROR, "identity.staff", "TOTP reset of %s without the resetter's role",
               row.public_id);
        e = PB_ERR_INTERNAL;
    }
    if (e == PB_OK && u->reset_totp && role == PB_ROLE_ADMIN && *u->by_role != PB_ROLE_ADMIN)
        e = PB_ERR_FORBIDDEN; /* an administrator's second factor: another administrator */
    bool changed = new_role != role || all != row.all_brands || u->brand_codes ||
                   active != (strcmp(row.status, "active") == 0) || u->reset_totp;
    if (e == PB_OK && changed) {
        snprintf(row.role, sizeof row.role, "%s", pb_role_name(new_role));
        row.all_brands = all;
        snprintf(row.status, sizeof row.status, "%s", active ? "active" : "disabled");
        row.updated_at = now;
        pb_store_rc r = pb_store_staff_update(c, &row);
        if (r == PB_STORE_OK)
            r = pb_store_staff_brands_set(c, row.id, ids, all ? 0 : nids);
        if (r == PB_STORE_OK && u->reset_totp)
            r = pb_store_staff_set_totp(c, row.id, NULL, 0, false, 0, now);
        if (r == PB_STORE_OK && u->reset_totp)
            r = pb_store_staff_set_password(c, row.id, u->reset_password->hash, true, now);
        if (r == PB_STORE_OK && u->reset_totp) {
            row.failed_logins = row.locked_until = 0;
            r = pb_store_staff_update_login(c, &row);
            if (r == PB_STORE_OK)
                r = pb_store_login_failure_clear(c, "staff", row.id);
        }
        if (r == PB_STORE_OK)
            r = pb_store_session_revoke_subject(c, "staff", row.id, 0, now, "staff_changed", NULL);
        e = pb_id_store_err(c, r, PB_ERR_STAFF_NOT_FOUND, "staff update");
    }
    if (e == PB_OK && out)
        e = pb_identity_staff_get(c, row.public_id, out);
    sodium_memzero(&row, sizeof row);
    return e;
}
