/*
 * admin_player_export.c — everything the platform holds about one player, as
 * one JSON document: the answer to a data subject's request for access (GDPR
 * Art. 15) or for their data in a portable form (Art. 20).
 *
 *   GET /v1/admin/players/{id}/export?reason=…   players.export (admin, compliance)
 *
 * The document (Content-Disposition: attachment), in this order:
 *
 *   {"format":"pitboss.player_export.v1","generated_at":…,"player":{…},
 *    "accounts":[…],"transfers":[…],"rounds":[…],"deposits":[…],
 *    "withdrawals":[…],"sessions":[…],"notes":[…],"adjustment_requests":[…],
 *    "audit":[…],"complete":true}
 *
 * - player: the profile with its personal data in the clear (the names and the
 *   date of birth opened, pii.c), as GET /v1/admin/players/{id} shows it to staff
 *   holding players.pii.read;
 * - accounts: the player's ledger accounts with their balances; transfers: every
 *   transfer on them, newest first, each with the account it is seen from;
 * - rounds: the game rounds, the providers' and the in-house games', newest first;
 * - deposits, withdrawals: the cashier's records of them;
 * - sessions: the logins, with their IP addresses and user agents;
 * - notes: what staff wrote about the player (not who wrote it);
 * - adjustment_requests: the large staff adjustments of the player's balances that
 *   waited for a second approver (4-eyes, admin_adjust.c), newest first, in every
 *   state (pending, approved, rejected, failed), with their reasons and times, not
 *   who asked or decided (requested_by, decided_by: staff members' ids). An
 *   adjustment applied at once has no request: it is a transfer;
 * - audit: the audit entries about the player (target), those the player made
 *   (actor), then the others about the player's deposits and withdrawals (staff
 *   approvals, the PSP's outcomes). A staff member's identity is personal data of
 *   theirs, not the player's: an entry by staff shows the role, not who (actor_id,
 *   actor_email and ip are left out), and its before/after documents lose every
 *   staff member's public id and e-mail, at any depth (requested_by, decided_by,
 *   staff_id, stated_by, ... and any other string that is one: the rules above
 *   strip_staff), the facts staying. The audit log itself keeps the full record.
 *
 * The export is for the operator to review before it is handed over: staff notes
 * and the reasons given for actions on the account are in it, and some of them
 * may have to be withheld (anti-money-laundering rules forbid tipping off, for
 * one). "complete": true closes a document that was written to its end; a body
 * without it was cut (the client went away, the server stopped, or a read failed:
 * logged as player.export_cut).
 *
 *   GET /v1/player/export                         the player's own copy (player token)
 *
 * The player's own copy is the same document without the operator's records about
 * the player (notes, adjustment requests, audit entries) and without the profile's block reason and
 * lockout (which the player's profile does not show either), at most once per 10
 * minutes per player (429 RATE_LIMITED with Retry-After), recorded as
 * "player.exported" with the player as actor.
 *
 * Staff must give a reason (1..200 characters: the request's reference),
 * and the export is on record (audit "player.exported", with the reason) before
 * its first byte is sent. It streams like the other exports (export_stream.h):
 * one of --max-exports places, a producer thread with a connection of its own,
 * bounded pages of each section (a short read transaction each), so a player with
 * a long history costs bounded memory and pins no snapshot. The pages are read one
 * after the other: an operation that lands while the export runs may show in one
 * section and not in another.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/admin_adjust.h" /* pb_adjust_request_json */
#include "api/export_stream.h"
#include "cashier/cashier.h"
#include "core/id.h"
#include "core/log.h"
#include "core/time.h"
#include "games/play.h"
#include "store/store_cashier.h"

#define PAGE 200 /* rows a section reads at a time */
#define REASON_MAX 200
#define FORMAT "pitboss.player_export.v1"

json_t *pb_api_withdrawal_json(const pb_store_withdrawal *w); /* cashier_player.c */
json_t *pb_api_payment_json(const pb_store_payment *p, const char *url,
                            int64_t expires_at); /* cashier_player.c */

/* One export being streamed. */
typedef struct player_export {
    pb_store_conn *conn; /* its own */
    bool place;          /* holds one of the exports' places (export_stream.c) */
    pb_http_stream *s;
    pb_player pl;
    pb_brand brand;
    bool staff;         /* for staff (notes and audit entries included) or for the player */
    json_t *staff_seen; /* strings judged for the audit documents: true = a staff member's
                           public id or e-mail (staff_identity below); NULL until needed */
    int64_t now;
    char trace[64];
    /* the writer */
    FILE *f;
    bool first;         /* no item written yet in the open section */
    const char *failed; /* what failed, for the log; NULL while all went well */
} player_export;

static void export_free(player_export *x)
{
    if (!x)
        return;
    if (x->conn)
        pb_store_disconnect(x->conn);
    if (x->place)
        pb_api_export_release(); /* before the body ends: its reader finds the place free */
    pb_http_stream_release(x->s);
    json_decref(x->staff_seen);
    free(x);
}

/* ---- the document */

static bool ok(const player_export *x) { return !x->failed && !ferror(x->f); }

static void section(player_export *x, const char *name)
{
    if (ok(x))
        fprintf(x->f, ",\"%s\":[", name);
    x->first = true;
}

static void section_end(player_export *x)
{
    if (ok(x))
        fputc(']', x->f);
}

/* Writes v (stolen) as the next item of the open section; NULL is a failure. */
static void item(player_export *x, json_t *v, const char *what)
{
    if (!v) {
        if (!x->failed)
            x->failed = what;
        return;
    }
    if (ok(x)) {
        if (!x->first)
            fputc(',', x->f);
        x->first = false;
        if (json_dumpf(v, x->f, JSON_COMPACT) != 0 && !x->failed)
            x->failed = "writing";
    }
    json_decref(v);
}

static void store_failed(player_export *x, const char *what)
{
    if (!x->failed)
        x->failed = what;
}

/* ---- the sections, each in pages on the export's own connection */

static void accounts_and_transfers(player_export *x)
{
    pb_ledger_account acc[PB_ADMIN_PLAYER_ACCOUNTS_MAX];
    size_t nacc = 0;
    if (pb_admin_player_accounts(x->conn, &x->brand, &x->pl, acc, &nacc) != PB_OK)
        store_failed(x, "reading the accounts");
    section(x, "accounts");
    for (size_t i = 0; ok(x) && i < nacc; i++)
        item(x, pb_admin_account_json(&acc[i]), "an account");
    section_end(x);

    section(x, "transfers");
    pb_ledger_record *rows = calloc(PAGE, sizeof *rows);
    if (!rows)
        store_failed(x, "memory");
    for (size_t i = 0; ok(x) && i < nacc; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)acc[i].id);
        int64_t cursor = 0;
        do {
            pb_ledger_history_query q = {.account_id = acc[i].id, .cursor = cursor, .limit = PAGE};
            size_t n = 0;
            int64_t next = 0;
            if (pb_ledger_account_history(x->conn, &q, rows, &n, &next) != PB_OK) {
                store_failed(x, "reading the transfers");
                break;
            }
            for (size_t k = 0; ok(x) && k < n; k++) {
                json_t *t = pb_admin_transfer_json(&rows[k], acc[i].id);
                if (t && json_object_set_new(t, "account", json_string(id)) != 0) {
                    json_decref(t);
                    t = NULL;
                }
                item(x, t, "a transfer");
            }
            cursor = next;
        } while (ok(x) && cursor);
    }
    free(rows);
    section_end(x);
}

/* ---- the paged sections: one loop, a row type each */

/* One section read in pages: read() fills up to PAGE rows following `last` (NULL:
 * from the newest) into rows; json() renders a row. */
typedef struct paged {
    const char *name, *what;
    bool staff_only; /* the operator's own records: not in the player's copy */
    size_t size;     /* bytes per row */
    pb_store_rc (*read)(const player_export *x, const void *last, void *rows, size_t *n);
    json_t *(*json)(const player_export *x, const void *row);
} paged;

static pb_store_rc rounds_read(const player_export *x, const void *last, void *rows, size_t *n)
{
    pb_store_round_query q = {.player = x->pl.public_id, .house_provider = PB_PLAY_PROVIDER};
    const pb_store_player_round *l = last;
    if (l) { /* the keyset: strictly after the last row shown */
        q.after.started_at = l->started_at;
        snprintf(q.after.source, sizeof q.after.source, "%s", l->source);
        snprintf(q.after.provider, sizeof q.after.provider, "%s", l->provider);
        snprintf(q.after.id, sizeof q.after.id, "%s", l->id);
    }
    return pb_store_player_round_page(x->conn, &q, rows, PAGE, n);
}

static json_t *rounds_json(const player_export *x, const void *row)
{
    (void)x;
    return pb_admin_round_json(row);
}

static pb_store_rc deposits_read(const player_export *x, const void *last, void *rows, size_t *n)
{
    pb_store_payment_query q = {.player = x->pl.public_id, .limit = PAGE};
    q.before_seq = last ? ((const pb_store_payment *)last)->seq : 0;
    return pb_store_payment_list(x->conn, &q, rows, n);
}

/* As the API shows it at the export's time: an intent pending past its brand's
 * deposit_expiry_minutes reads "expired", with its expires_at; completed_late as
 * stored when it completed (0055), as the staff's payment answers show it. */
static json_t *deposits_json(const player_export *x, const void *row)
{
    pb_store_payment p = *(const pb_store_payment *)row;
    int64_t expires_at = pb_cashier_deposit_view(x->conn, &p, x->now);
    json_t *o = pb_api_payment_json(&p, NULL, expires_at);
    if (o && json_object_set_new(o, "completed_late", json_boolean(p.completed_late)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static pb_store_rc withdrawals_read(const player_export *x, const void *last, void *rows, size_t *n)
{
    pb_store_withdrawal_query q = {.player = x->pl.public_id, .limit = PAGE};
    q.before_seq = last ? ((const pb_store_withdrawal *)last)->seq : 0;
    return pb_store_withdrawal_list(x->conn, &q, rows, n);
}

static json_t *withdrawals_json(const player_export *x, const void *row)
{
    (void)x;
    return pb_api_withdrawal_json(row);
}

static pb_store_rc sessions_read(const player_export *x, const void *last, void *rows, size_t *n)
{
    int64_t before = last ? ((const pb_store_session *)last)->id : 0;
    return pb_store_player_session_page(x->conn, x->pl.id, before, rows, PAGE, n);
}

static json_t *sessions_json(const player_export *x, const void *row)
{
    return pb_admin_session_json(row, true, x->now);
}

static pb_store_rc notes_read(const player_export *x, const void *last, void *rows, size_t *n)
{
    int64_t before = last ? ((const pb_store_player_note *)last)->id : 0;
    return pb_store_player_note_list(x->conn, x->pl.id, before, rows, PAGE, n);
}

static json_t *notes_json(const player_export *x, const void *row)
{
    (void)x;
    json_t *j = pb_admin_note_json(row);
    if (j) { /* who wrote it is the staff member's data, not the player's */
        json_object_del(j, "author_id");
        json_object_del(j, "author_email");
    }
    return j;
}

static pb_store_rc adjustments_read(const player_export *x, const void *last, void *rows, size_t *n)
{
    int64_t before = last ? ((const pb_store_adjustment *)last)->rq.id : 0;
    return pb_store_adjustment_player_page(x->conn, x->pl.public_id, before, rows, PAGE, n);
}

/* As GET /v1/admin/adjustments shows it, but who asked and who decided (staff
 * members' ids: their data, not the player's, as in the notes and the audit entries). */
static json_t *adjustments_json(const player_export *x, const void *row)
{
    (void)x;
    json_t *j = pb_adjust_request_json(row);
    if (j) {
        json_object_del(j, "requested_by");
        json_object_del(j, "decided_by");
    }
    return j;
}

static const paged ROUNDS = {"rounds",    "the rounds", false, sizeof(pb_store_player_round),
                             rounds_read, rounds_json};
static const paged DEPOSITS = {"deposits",    "the deposits", false, sizeof(pb_store_payment),
                               deposits_read, deposits_json};
static const paged WITHDRAWALS = {
    "withdrawals",    "the withdrawals", false, sizeof(pb_store_withdrawal),
    withdrawals_read, withdrawals_json};
static const paged SESSIONS = {"sessions",    "the sessions", false, sizeof(pb_store_session),
                               sessions_read, sessions_json};
static const paged NOTES = {"notes",    "the notes", true, sizeof(pb_store_player_note),
                            notes_read, notes_json};
static const paged ADJUSTMENTS = {
    "adjustment_requests",       "the adjustment requests", true,
    sizeof(pb_store_adjustment), adjustments_read,          adjustments_json};
/* in the document's order */
static const paged *const PAGED[] = {&ROUNDS,   &DEPOSITS, &WITHDRAWALS,
                                     &SESSIONS, &NOTES,    &ADJUSTMENTS};

/* Calls fn(x, row, ctx) for every row of s, page by page, newest first. */
static void each_row(player_export *x, const paged *s,
                     void (*fn)(player_export *x, const paged *s, const void *row, void *ctx),
                     void *ctx)
{
    unsigned char *rows = calloc(PAGE + 1, s->size); /* a page, and the last row of the one
                                                       before (the next page's cursor) */
    const void *last = NULL;
    if (!rows)
        store_failed(x, "memory");
    while (ok(x)) {
        size_t n = 0;
        if (s->read(x, last, rows, &n) != PB_STORE_OK) {
            store_failed(x, s->what);
            break;
        }
        for (size_t i = 0; ok(x) && i < n; i++)
            fn(x, s, rows + i * s->size, ctx);
        if (n < PAGE)
            break;
        memcpy(rows + PAGE * s->size, rows + (n - 1) * s->size, s->size);
        last = rows + PAGE * s->size;
    }
    free(rows);
}

static void write_row(player_export *x, const paged *s, const void *row, void *ctx)
{
    (void)ctx;
    item(x, s->json(x, row), s->what);
}

/* Writes section s: every page of its rows, newest first. */
static void paged_section(player_export *x, const paged *s)
{
    section(x, s->name);
    each_row(x, s, write_row, NULL);
    section_end(x);
}

/* ---- staff identities in the audit entries' before/after documents
 *
 * The audit log keeps who did what in full; the export shows staff by role only,
 * and the entries' documents name staff too (an adjustment request's requested_by
 * and decided_by, a lapsed withdrawal approval's staff_id, a manual resolution's
 * stated_by and confirmed_by, ...). Two rules, applied recursively to every object
 * and array of `before` and `after`, so that a key added later cannot leak silently:
 *
 *  1. a member under one of STAFF_KEYS is dropped, whatever its value (the keys
 *     the audit writers use for staff members; their id-shaped values are also
 *     remembered as staff for rule 2, for a member whose row is gone);
 *  2. any other string value that is a staff member's public id or e-mail (also in
 *     the "staff:<id>" form of a withdrawal's requested_by) is dropped, the member
 *     from its object, the item from its array, whatever its key. Whether a
 *     string is one is known from the entries' staff actors (their actor_id and
 *     actor_email) or else asked of the store: a string shaped like a public id
 *     (36 characters, pb_id_parse) or holding an '@' is looked up among the staff
 *     (by public id, by e-mail lower-cased), and the answer remembered (up to
 *     SEEN_MAX strings; past that, asked again). A failed lookup fails the export
 *     (cut, logged): better no document than one that may name a member.
 *
 * The rest of the document (the facts: amounts, states, reasons, times, roles)
 * stays. Not covered: a staff member's id or e-mail written inside free text (a
 * reason, a note), or inside a stored document that does not parse as JSON (shown
 * as its text, admin_audit.c). The entry's hash is that of the full record, as
 * with the actor left out. */

static const char *const STAFF_KEYS[] = {"staff_id",   "requested_by", "decided_by",
                                         "stated_by",  "confirmed_by", "approved_by",
                                         "author_id",  "author_email", "actor_id",
                                         "actor_email"};
#define SEEN_MAX 4096

static bool staff_key(const char *k)
{
    for (size_t i = 0; i < sizeof STAFF_KEYS / sizeof STAFF_KEYS[0]; i++)
        if (strcmp(k, STAFF_KEYS[i]) == 0)
            return true;
    return false;
}

static void staff_seen_set(player_export *x, const char *s, bool staff)
{
    if (!x->staff_seen)
        x->staff_seen = json_object();
    if (x->staff_seen && *s && json_object_size(x->staff_seen) < SEEN_MAX)
        json_object_set_new(x->staff_seen, s, json_boolean(staff));
}

static bool id_shaped(const char *s)
{
    pb_id id;
    return strlen(s) == PB_ID_STR_LEN && pb_id_parse(s, PB_ID_STR_LEN, &id) == 0;
}

/* Whether s is a staff member's public id or e-mail (rule 2 above). */
static bool staff_identity(player_export *x, const char *s)
{
    if (strncmp(s, "staff:", 6) == 0)
        s += 6;
    if (!*s || strcmp(s, x->pl.public_id) == 0)
        return false;
    json_t *seen = x->staff_seen ? json_object_get(x->staff_seen, s) : NULL;
    if (seen)
        return json_is_true(seen);
    bool email = strchr(s, '@') != NULL;
    if (!email && !id_shaped(s))
        return false;
    char low[PB_EMAIL_MAX + 1];
    if (email) {
        size_t n = strlen(s);
        if (n > PB_EMAIL_MAX)
            return false; /* longer than any e-mail stored */
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)tolower((unsigned char)s[i]);
    }
    pb_store_staff row;
    pb_store_rc rc = email ? pb_store_staff_by_email(x->conn, low, &row)
                           : pb_store_staff_by_public_id(x->conn, s, &row);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND) {
        store_failed(x, "reading the staff");
        return true; /* the export is cut: drop it all the same */
    }
    staff_seen_set(x, s, rc == PB_STORE_OK);
    if (rc == PB_STORE_OK) { /* the member's other identity, for the next documents */
        staff_seen_set(x, row.public_id, true);
        staff_seen_set(x, row.email, true);
    }
    return rc == PB_STORE_OK;
}

/* Drops the staff identities from v, recursively (rules 1 and 2 above). */
static void strip_staff(player_export *x, json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, m)
        {
            if (staff_key(k)) {
                const char *s = json_string_value(m);
                if (s && strncmp(s, "staff:", 6) == 0)
                    s += 6;
                if (s && id_shaped(s) && strcmp(s, x->pl.public_id) != 0)
                    staff_seen_set(x, s, true);
                json_object_del(v, k);
            } else if (json_is_string(m) && staff_identity(x, json_string_value(m))) {
                json_object_del(v, k);
            } else {
                strip_staff(x, m);
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v);) {
            json_t *m = json_array_get(v, i);
            if (json_is_string(m) && staff_identity(x, json_string_value(m))) {
                json_array_remove(v, i);
            } else {
                strip_staff(x, m);
                i++;
            }
        }
    }
}

/* An audit entry for the player: a staff actor shows as a role only, and no staff
 * member's identity is left in its documents (x: the export, for its store and
 * what it has learned). */
static json_t *audit_json(player_export *x, const pb_audit_record *r)
{
    if (strcmp(r->actor_kind, "staff") == 0) {
        staff_seen_set(x, r->actor_id, true);
        staff_seen_set(x, r->actor_email, true);
    }
    json_t *j = pb_admin_audit_entry_json(r);
    if (j && strcmp(r->actor_kind, "player") != 0) {
        json_object_del(j, "actor_id");
        json_object_del(j, "actor_email");
        json_object_del(j, "ip");
    }
    for (const char *const *k = (const char *const[]){"before", "after", NULL}; j && *k; k++) {
        json_t *doc = json_object_get(j, *k);
        if (json_is_string(doc) && staff_identity(x, json_string_value(doc)))
            json_object_set_new(j, *k, json_null()); /* a stored text that is only that */
        else
            strip_staff(x, doc);
    }
    return j;
}

/* Which entries a pass leaves out: those an earlier pass wrote. */
typedef enum { KEEP_ALL, SKIP_ABOUT_PLAYER, SKIP_BY_PLAYER } audit_skip;

/* The entries matching f, every page, but those `skip` names. */
static void audit_pass(player_export *x, pb_audit_filter f, audit_skip skip)
{
    f.limit = PB_AUDIT_QUERY_LIMIT_MAX;
    do {
        pb_audit_page pg = {0};
        if (pb_audit_query(x->conn, &f, &pg) != PB_OK) {
            pb_audit_page_free(&pg);
            store_failed(x, "reading the audit log");
            return;
        }
        for (size_t i = 0; ok(x) && i < pg.n; i++) {
            const pb_audit_record *r = &pg.entries[i];
            bool about = strcmp(r->target_kind, "player") == 0 &&
                         strcmp(r->target_id, x->pl.public_id) == 0;
            bool by = strcmp(r->actor_kind, "player") == 0 &&
                      strcmp(r->actor_id, x->pl.public_id) == 0;
            if ((skip == SKIP_ABOUT_PLAYER && about) || (skip == SKIP_BY_PLAYER && by))
                continue;
            item(x, audit_json(x, r), "an audit entry");
        }
        f.cursor = pg.next_cursor;
        pb_audit_page_free(&pg);
    } while (ok(x) && f.cursor);
}

/* The entries about one of the player's deposits or withdrawals (ctx: the target
 * kind) that the player did not make: staff approvals, the PSP's outcomes. */
static void audit_payment(player_export *x, const paged *s, const void *row, void *ctx)
{
    const char *kind = ctx;
    const char *id = strcmp(kind, "payment") == 0 ? ((const pb_store_payment *)row)->id
                                                  : ((const pb_store_withdrawal *)row)->id;
    (void)s;
    audit_pass(x, (pb_audit_filter){.target_kind = kind, .target_id = id}, SKIP_BY_PLAYER);
}

static void audit(player_export *x)
{
    section(x, "audit");
    audit_pass(x, (pb_audit_filter){.target_kind = "player", .target_id = x->pl.public_id},
               KEEP_ALL);
    if (ok(x))
        audit_pass(x, (pb_audit_filter){.actor_kind = "player", .actor_id = x->pl.public_id},
                   SKIP_ABOUT_PLAYER);
    if (ok(x))
        each_row(x, &DEPOSITS, audit_payment, (void *)"payment");
    if (ok(x))
        each_row(x, &WITHDRAWALS, audit_payment, (void *)"withdrawal");
    section_end(x);
}

/* The producer thread: writes the document into the stream. */
static void export_main(void *arg)
{
    player_export *x = arg;
    uint64_t sent = 0;
    x->f = pb_api_export_fopen(x->s, &sent);
    if (!x->f) {
        pb_log(PB_LOG_ERROR, "player.export_cut", "out of memory: nothing sent (trace %s)",
               x->trace);
        export_free(x);
        return;
    }
    json_t *at = pb_admin_time_json(x->now);
    fprintf(x->f, "{\"format\":\"" FORMAT "\",\"generated_at\":\"%s\",\"player\":",
            at ? json_string_value(at) : "");
    json_decref(at);
    json_t *pl = pb_admin_player_json(&x->pl, x->brand.code, true);
    if (pl && !x->staff) { /* what the player's own profile leaves out (player.c) */
        json_object_del(pl, "block_reason");
        json_object_del(pl, "locked_until");
    }
    if (!pl || json_dumpf(pl, x->f, JSON_COMPACT) != 0)
        store_failed(x, "the profile");
    json_decref(pl);
    accounts_and_transfers(x);
    for (size_t i = 0; i < sizeof PAGED / sizeof PAGED[0]; i++)
        if (x->staff || !PAGED[i]->staff_only)
            paged_section(x, PAGED[i]);
    if (x->staff)
        audit(x);
    if (ok(x))
        fputs(",\"complete\":true}\n", x->f);
    bool refused = ferror(x->f); /* the client went away or stalled, or the server stops */
    if (fclose(x->f) != 0)
        refused = true;
    if (x->failed || refused)
        pb_log(x->failed ? PB_LOG_ERROR : PB_LOG_WARN, "player.export_cut",
               "the export of player %s was cut after %llu bytes: %s (trace %s)", x->pl.public_id,
               (unsigned long long)sent,
               x->failed                     ? x->failed
               : pb_http_stream_closed(x->s) ? "the client went away or the server stops"
                                             : "the client stalled",
               x->trace);
    export_free(x);
}

/* ---- the request */

typedef struct record_ctx {
    pb_http_request *req;
    const pb_principal *p; /* the staff member; NULL: the player asked */
    const player_export *x;
    const char *reason;
} record_ctx;

/* Puts the export on record before its first byte. */
static pb_err record_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    record_ctx *r = ctx;
    pb_audit_entry en;
    pb_admin_entry(r->req, r->p, "player.exported", &en);
    if (!r->p) { /* the player's own request */
        en.actor_kind = "player";
        en.actor_id = r->x->pl.public_id;
        en.role = NULL;
    }
    en.brand = r->x->brand.code;
    en.target_kind = "player";
    en.target_id = r->x->pl.public_id;
    en.reason = r->reason;
    en.after = pb_admin_json_text(r->req, json_pack("{s:s,s:s}", "format", FORMAT, "for",
                                                    r->x->staff ? "staff" : "player"));
    return en.after ? pb_audit_append(c, &en, r->x->now) : PB_ERR_INTERNAL;
}

/* Starts the export of player_id (within scope; NULL: no scope, the player's own):
 * records it, replies with the stream and hands it to its producer thread.
 * Replies itself on every path. */
static void start_export(pb_http_request *req, pb_api_app *a, const pb_principal *staff,
                         const pb_brand_scope *scope, const char *player_id, const char *reason)
{
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_admin_fail(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    player_export *x = calloc(1, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    x->staff = staff != NULL;
    x->now = pb_time_now_us();
    pb_err e = pb_identity_player_get_pii(c, scope, player_id, &x->pl);
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, x->pl.brand_id, &x->brand);
    if (e == PB_ERR_BRAND_NOT_FOUND)
        e = PB_ERR_INTERNAL; /* a player whose brand is gone */
    if (e != PB_OK) {
        free(x);
        pb_admin_fail(req, e, NULL);
        return;
    }
    if (!pb_api_export_reserve(a->max_exports)) {
        free(x);
        pb_api_export_busy(req);
        return;
    }
    x->place = true;
    char why[200];
    if (!(x->conn = pb_store_connect(a->store, why, sizeof why))) {
        pb_log(PB_LOG_ERROR, "player.export", "no connection: %s (trace %s)", why,
               pb_http_trace_id(req));
        export_free(x);
        pb_admin_fail(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    record_ctx r = {.req = req, .p = staff, .x = x, .reason = reason};
    if ((e = pb_admin_write(req, record_tx, &r, NULL)) != PB_OK) {
        export_free(x);
        pb_admin_fail(req, e, NULL);
        return;
    }
    snprintf(x->trace, sizeof x->trace, "%s", pb_http_trace_id(req));
    char disp[120];
    snprintf(disp, sizeof disp, "attachment; filename=\"pitboss-player-%s.json\"", x->pl.public_id);
    pb_http_add_header(req, "Content-Disposition", disp);
    if (!(x->s = pb_api_export_reply(req, "application/json"))) { /* a 500 was replied */
        export_free(x);
        return;
    }
    if (!pb_api_export_spawn(export_main, x)) {
        pb_log(PB_LOG_ERROR, "player.export_cut", "no thread: nothing sent (trace %s)", x->trace);
        export_free(x);
    }
}

void pb_api_admin_player_export(pb_http_request *req, void *app)
{
    const pb_principal *p = pb_api_principal(req);
    const char *reason = NULL;
    if (!pb_admin_query_str(req, "reason", REASON_MAX, &reason))
        return;
    if (!reason) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_MISSING, "reason",
                                "query parameter reason (why the player's data is exported: "
                                "the request's reference) is required");
        return;
    }
    if (!pb_admin_reason_ok(req, p, "player.exported", reason))
        return;
    start_export(req, app, p, &p->scope, pb_http_param(req, "id"), reason);
}

/* The player's own copy: at most one per PLAYER_EVERY_US per player (process-wide). */
#define PLAYER_EVERY_US (10LL * 60 * 1000000)

static pthread_mutex_t player_mu = PTHREAD_MUTEX_INITIALIZER;
static pb_ratelimit *player_limit;

void pb_api_player_export(pb_http_request *req, void *app)
{
    const pb_principal *p = pb_api_principal(req);
    if (!p || p->kind != PB_SUBJECT_PLAYER) {
        pb_http_reply_error(req, PB_ERR_UNAUTHENTICATED, NULL);
        return;
    }
    /* like the other player reads: no body but an empty one or {} (replied), and a
     * refused request takes no turn of the limit */
    size_t len = 0;
    pb_http_body(req, &len);
    if (len && !pb_http_parse_json(req, NULL, 0))
        return;
    int64_t wait = 0;
    pthread_mutex_lock(&player_mu);
    if (!player_limit)
        player_limit = pb_ratelimit_new(1, PLAYER_EVERY_US, 100000);
    pb_err e = player_limit
                   ? pb_ratelimit_take(player_limit, p->subject_public_id, pb_time_now_us(), &wait)
                   : PB_ERR_INTERNAL;
    pthread_mutex_unlock(&player_mu);
    if (e != PB_OK) {
        if (e == PB_ERR_RATE_LIMITED)
            pb_http_add_retry_after(req, wait);
        pb_http_reply_error_msg(req, e, NULL, "a copy of your data at most once per 10 minutes");
        return;
    }
    start_export(req, app, NULL, NULL, p->subject_public_id, "requested by the player");
}
