/*
 * test_pii.c — players' dates of birth and names sealed at rest (identity/pii.c):
 * the row read with SQL holds none of them in the clear, only the "e1:" form;
 * reads open them; a value copied onto another player or into another column,
 * or read with another keys directory's pii.key, is '' (never the sealed text)
 * and flagged; values an older version stored in the clear are sealed by the
 * start-up pass, across batches, and only once; the back office name search
 * (case-insensitive prefix of the first or the last name) finds sealed and
 * clear names alike, and nothing that does not open; the matcher, which
 * deciphers a name's first bytes before it opens the box, answers as opening
 * every box would.
 */
#include <unistd.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/sealbox.h"
#include "fixture.h"
#include "../capture.h"

/* Runs one SQL statement on the fixture's database (its own connection). */
static void sql(ifx *f, const char *text)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", text, msg ? msg : "?");
    sqlite3_close(db);
}

/* The stored text of column col of player public_id's PII row, into out. */
static void stored(ifx *f, const char *public_id, const char *col, char *out, size_t cap)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT e.%s FROM player_pii e JOIN player p ON p.id=e.player_id "
             "WHERE p.public_id=?1",
             col);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, public_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* True when needle occurs in hay, ASCII case ignored. */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* Registers a player with names (NULL: not given). */
static pb_player named(ifx *f, const char *email, const char *first, const char *last)
{
    pb_player_registration reg = {.brand_code = "demo",
                                  .email = email,
                                  .password = IFX_PASSWORD,
                                  .country = "MT",
                                  .date_of_birth = "1990-05-17",
                                  .first_name = first,
                                  .last_name = last};
    pb_player p;
    const char *field = NULL;
    pb_err e = pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, &p, &field);
    if (e != PB_OK)
        fail_msg("register %s: %s (%s)", email, pb_err_code(e), field ? field : "-");
    f->now += 1000000;
    return p;
}

/* The player as a read shows them. */
static pb_player get(ifx *f, const char *public_id)
{
    pb_player p;
    assert_int_equal(pb_identity_player_get_pii(f->conn, NULL, public_id, &p), PB_OK);
    return p;
}

static void sealed_at_rest_opened_on_read(void **state)
{
    ifx *f = *state;
    pb_player ada = named(f, "ada@example.com", "Augusta", "Lovelace");
    assert_string_equal(ada.first_name, "Augusta"); /* the registration's answer is clear */
    assert_false(ada.pii_unavailable);
    /* the money paths' read leaves the sealed data unopened (and empty) */
    pb_player brief;
    assert_int_equal(pb_identity_player_get(f->conn, NULL, ada.public_id, &brief), PB_OK);
    assert_string_equal(brief.email, "ada@example.com");
    assert_string_equal(brief.first_name, "");
    assert_string_equal(brief.date_of_birth, "");
    assert_false(brief.pii_unavailable);
    assert_string_equal(get(f, ada.public_id).last_name, "Lovelace");
    const char *cols[] = {"date_of_birth", "first_name", "last_name"};
    /* each has a character lower-case hex does not, so a chance match is impossible */
    const char *clear[] = {"1990-05-17", "Augusta", "Lovelace"};
    char row[PB_PLAYER_NAME_STORED_MAX + 1], other[PB_PLAYER_NAME_STORED_MAX + 1];
    for (int i = 0; i < 3; i++) {
        stored(f, ada.public_id, cols[i], row, sizeof row);
        assert_memory_equal(row, "e1:", 3);
        assert_true(strlen(row) >= 115);
        assert_true(pb_pii_is_sealed(row));
        assert_false(contains_nocase(row, clear[i]));
    }
    /* the same name twice seals differently (a fresh nonce) */
    pb_player ada2 = named(f, "ada2@example.com", "Augusta", NULL);
    stored(f, ada.public_id, "first_name", row, sizeof row);
    stored(f, ada2.public_id, "first_name", other, sizeof other);
    assert_string_not_equal(row, other);
    /* a name not given stays '' */
    stored(f, ada2.public_id, "last_name", row, sizeof row);
    assert_string_equal(row, "");
    /* email and country stay in the clear (login key, geo rules) */
    stored(f, ada.public_id, "email", row, sizeof row);
    assert_string_equal(row, "ada@example.com");
    pb_player seen = get(f, ada.public_id);
    assert_string_equal(seen.date_of_birth, "1990-05-17");
    assert_string_equal(seen.first_name, "Augusta");
    assert_string_equal(seen.last_name, "Lovelace");
    assert_false(seen.pii_unavailable);
    seen = get(f, ada2.public_id);
    assert_string_equal(seen.last_name, "");
    assert_false(seen.pii_unavailable);
    /* 0018: no index orders the sealed names */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                                  "tbl_name='player_pii' AND (sql LIKE '%first_name%' OR sql "
                                  "LIKE '%last_name%' OR sql LIKE '%date_of_birth%')"),
                     0);
    /* a 100-character, 400-byte name fits sealed and opens whole */
    char longest[PB_PLAYER_NAME_MAX + 1] = "";
    for (int i = 0; i < 100; i++)
        strcat(longest, "\xF0\x9F\x98\x80"); /* U+1F600, 4 bytes */
    pb_player big = named(f, "big@example.com", longest, "X");
    assert_string_equal(get(f, big.public_id).first_name, longest);
}

static void copied_values_do_not_open(void **state)
{
    ifx *f = *state;
    pb_player ada = named(f, "ada@example.com", "Ada", "Lovelace");
    pb_player bob = named(f, "bob@example.com", "Bob", "Byron");
    char q[PB_PLAYER_NAME_STORED_MAX + 256];
    /* Ada's first name copied onto Bob's row; Ada's first name into her last name */
    snprintf(q, sizeof q,
             "UPDATE player_pii SET first_name=(SELECT first_name FROM player_pii WHERE "
             "player_id=%lld) WHERE player_id=%lld;"
             "UPDATE player_pii SET last_name=first_name WHERE player_id=%lld;",
             (long long)ada.id, (long long)bob.id, (long long)ada.id);
    sql(f, q);
    pb_player b = get(f, bob.public_id), a = get(f, ada.public_id);
    assert_true(b.pii_unavailable);
    assert_string_equal(b.first_name, ""); /* null in the API, not the sealed text */
    assert_string_equal(b.last_name, "Byron");
    assert_string_equal(b.date_of_birth, "1990-05-17");
    assert_true(a.pii_unavailable);
    assert_string_equal(a.first_name, "Ada");
    assert_string_equal(a.last_name, "");
    /* the date of birth is bound to its field too */
    snprintf(q, sizeof q, "UPDATE player_pii SET date_of_birth=first_name WHERE player_id=%lld",
             (long long)ada.id);
    sql(f, q);
    a = get(f, ada.public_id);
    assert_string_equal(a.date_of_birth, "");
    /* a changed byte does not open either */
    char row[PB_PLAYER_NAME_STORED_MAX + 1];
    stored(f, bob.public_id, "last_name", row, sizeof row);
    row[20] = row[20] == 'a' ? 'b' : 'a';
    snprintf(q, sizeof q, "UPDATE player_pii SET last_name='%s' WHERE player_id=%lld", row,
             (long long)bob.id);
    sql(f, q);
    b = get(f, bob.public_id);
    assert_string_equal(b.last_name, "");
}

static void another_keys_directory(void **state)
{
    ifx *f = *state;
    pb_player ada = named(f, "ada@example.com", "Ada", "Lovelace");
    char other_dir[400], err[300];
    snprintf(other_dir, sizeof other_dir, "%s/other-keys", f->dir);
    pb_identity_config cfg = {.keys_dir = other_dir};
    pb_identity *other = pb_identity_new(&cfg, f->now, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(pb_identity_pii_open(other, NULL, NULL, err, sizeof err), 0);
    pb_player seen = get(f, ada.public_id);
    assert_true(seen.pii_unavailable);
    assert_string_equal(seen.date_of_birth, "");
    assert_string_equal(seen.first_name, "");
    assert_string_equal(seen.last_name, "");
    assert_string_equal(seen.email, "ada@example.com");
    /* the start-up pass leaves sealed values alone, even those it cannot open */
    int64_t sealed = -1;
    char before[PB_PLAYER_NAME_STORED_MAX + 1], after[PB_PLAYER_NAME_STORED_MAX + 1];
    stored(f, ada.public_id, "first_name", before, sizeof before);
    capture cap;
    capture_begin(&cap);
    int rc = pb_identity_pii_open(other, f->store, &sealed, err, sizeof err);
    const char *log = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_int_equal(sealed, 0);
    /* said at start: the newest player's date of birth does not open */
    assert_non_null(strstr(log, "\"event\":\"identity.pii_key_mismatch\""));
    assert_non_null(strstr(log, ada.public_id));
    stored(f, ada.public_id, "first_name", after, sizeof after);
    assert_string_equal(before, after);
    /* the search finds nobody by a name that does not open */
    pb_store_player_find_query q = {.name_prefix = "ada"};
    pb_store_player_hit hits[4];
    char lower[2][PB_EMAIL_MAX + 1];
    const char *bad = NULL;
    size_t n = 9;
    assert_int_equal(pb_identity_player_find(f->conn, NULL, &q, hits, 4, &n, lower, &bad), PB_OK);
    assert_int_equal(n, 0);
    pb_identity_free(other);
    /* the right directory again: nothing to say at start */
    capture_begin(&cap);
    rc = pb_identity_pii_open(f->id, f->store, NULL, err, sizeof err);
    log = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_null(strstr(log, "pii_key_mismatch"));
    seen = get(f, ada.public_id);
    assert_false(seen.pii_unavailable);
    assert_string_equal(seen.first_name, "Ada");
}

/* Inserts a player the way an older version stored one: PII in the clear. */
static void legacy_player(ifx *f, int i, const char *first, const char *last, char *public_id)
{
    pb_store_player p;
    memset(&p, 0, sizeof p);
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, p.public_id);
    p.brand_id = f->demo.id;
    snprintf(p.currency, sizeof p.currency, "EUR");
    snprintf(p.password_hash, sizeof p.password_hash, "-");
    snprintf(p.status, sizeof p.status, "active");
    snprintf(p.email, sizeof p.email, "old%d@example.com", i);
    snprintf(p.country, sizeof p.country, "MT");
    snprintf(p.date_of_birth, sizeof p.date_of_birth, "1980-01-%02d", 1 + i % 28);
    snprintf(p.first_name, sizeof p.first_name, "%s", first);
    snprintf(p.last_name, sizeof p.last_name, "%s", last);
    p.created_at = p.updated_at = f->now + i;
    assert_int_equal(pb_store_player_insert(f->conn, &p), PB_STORE_OK);
    snprintf(public_id, PB_PUBLIC_ID_MAX + 1, "%s", p.public_id);
}

#define LEGACY 600 /* more than two of the start-up pass's batches (256) */

static void clear_rows_sealed_at_start_once(void **state)
{
    ifx *f = *state;
    pb_player fresh = named(f, "fresh@example.com", "Fresh", NULL);
    char fresh_before[PB_PLAYER_NAME_STORED_MAX + 1];
    stored(f, fresh.public_id, "first_name", fresh_before, sizeof fresh_before);
    static char ids[LEGACY][PB_PUBLIC_ID_MAX + 1];
    ifx_begin(f);
    for (int i = 0; i < LEGACY; i++) {
        char first[32], last[32];
        snprintf(first, sizeof first, "Grace%d", i);
        snprintf(last, sizeof last, "Hopper%d", i);
        legacy_player(f, i, i % 3 == 0 ? "" : first, i % 5 == 0 ? "" : last, ids[i]);
    }
    ifx_commit(f);
    /* before the pass: read as they are, and found by name */
    pb_player seen = get(f, ids[1]);
    assert_string_equal(seen.first_name, "Grace1");
    assert_false(seen.pii_unavailable);
    char row[PB_PLAYER_NAME_STORED_MAX + 1];
    stored(f, ids[1], "first_name", row, sizeof row);
    assert_string_equal(row, "Grace1");
    int64_t sealed = -1;
    char err[300];
    assert_int_equal(pb_identity_pii_open(f->id, f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, LEGACY); /* every one has a clear date of birth */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player_pii WHERE "
                                  "date_of_birth NOT LIKE 'e1:%' "
                                  "OR (first_name<>'' AND first_name NOT LIKE 'e1:%') "
                                  "OR (last_name<>'' AND last_name NOT LIKE 'e1:%')"),
                     0);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player_pii WHERE first_name LIKE "
                                  "'%Grace%' OR last_name LIKE '%Hopper%' OR date_of_birth "
                                  "LIKE '1980%'"),
                     0);
    /* names not given stay '' */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player_pii WHERE first_name=''"),
                     (LEGACY + 2) / 3);
    for (int i = 0; i < LEGACY; i += 7) {
        seen = get(f, ids[i]);
        assert_false(seen.pii_unavailable);
        char want[32];
        snprintf(want, sizeof want, "Grace%d", i);
        assert_string_equal(seen.first_name, i % 3 == 0 ? "" : want);
        snprintf(want, sizeof want, "Hopper%d", i);
        assert_string_equal(seen.last_name, i % 5 == 0 ? "" : want);
        snprintf(want, sizeof want, "1980-01-%02d", 1 + i % 28);
        assert_string_equal(seen.date_of_birth, want);
    }
    /* a value already sealed was not sealed again */
    stored(f, fresh.public_id, "first_name", row, sizeof row);
    assert_string_equal(row, fresh_before);
    /* once: a second start seals nothing and rewrites nothing */
    char before[PB_PLAYER_NAME_STORED_MAX + 1];
    stored(f, ids[1], "first_name", before, sizeof before);
    assert_int_equal(pb_identity_pii_open(f->id, f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 0);
    stored(f, ids[1], "first_name", row, sizeof row);
    assert_string_equal(row, before);
}

/* The hits of a name search with name_prefix (or q when q_too). */
static size_t find_name(ifx *f, const char *prefix, bool q_box)
{
    pb_store_player_find_query q = {0};
    if (q_box)
        q.q_id = q.q_email = q.q_name = prefix;
    else
        q.name_prefix = prefix;
    pb_store_player_hit hits[16];
    char lower[2][PB_EMAIL_MAX + 1];
    const char *bad = NULL;
    size_t n = 0;
    assert_int_equal(pb_identity_player_find(f->conn, NULL, &q, hits, 16, &n, lower, &bad), PB_OK);
    return n;
}

static void name_search_opens_names(void **state)
{
    ifx *f = *state;
    named(f, "ada@example.com", "Ada", "Lovelace");
    named(f, "adam@example.com", "ADAM", "Smith");
    named(f, "zoe@example.com", "Zoë", "Adams");
    named(f, "nobody@example.com", NULL, NULL);
    char id[PB_PUBLIC_ID_MAX + 1];
    ifx_begin(f);
    legacy_player(f, 1, "Adelaide", "Clear", id); /* an older version's clear row */
    ifx_commit(f);
    for (int box = 0; box < 2; box++) {
        assert_int_equal(find_name(f, "ad", box), 4);  /* Ada, ADAM, Adams, Adelaide */
        assert_int_equal(find_name(f, "ADA", box), 3); /* Ada, ADAM, Adams */
        assert_int_equal(find_name(f, "lovelace", box), 1);
        assert_int_equal(find_name(f, "da", box), 0); /* a prefix, not a substring */
        assert_int_equal(find_name(f, "Zoë", box), 1);
        assert_int_equal(find_name(f, "zoË", box), 0); /* only ASCII letters fold, as before */
        assert_int_equal(find_name(f, "cle", box), 1);
        assert_int_equal(find_name(f, "e1:", box), 0); /* never the stored text */
        assert_int_equal(find_name(f, "Lovelacey", box), 0);
    }
    /* q still matches an email prefix and an exact id */
    assert_int_equal(find_name(f, "nobody", true), 1);
}

static void sealed_form_is_unambiguous(void **state)
{
    (void)state;
    char name[160] = "e1:";
    for (int i = 0; i < 97; i++)
        strcat(name, "a"); /* the longest clear name: 100 characters */
    assert_false(pb_pii_is_sealed(name));
    assert_false(pb_pii_is_sealed("1990-05-17"));
    assert_false(pb_pii_is_sealed(""));
    char out[PB_PLAYER_NAME_STORED_MAX + 1];
    assert_true(pb_pii_seal("p-1", "first_name", "A", out, sizeof out));
    assert_true(pb_pii_is_sealed(out));
    assert_int_equal(strlen(out), 115);
    char back[PB_PLAYER_NAME_MAX + 1];
    assert_true(pb_pii_open("p-1", "first_name", out, back, sizeof back));
    assert_string_equal(back, "A");
    assert_false(pb_pii_open("p-2", "first_name", out, back, sizeof back));
    assert_string_equal(back, "");
    assert_false(pb_pii_open("p-1", "last_name", out, back, sizeof back));
    /* 16 bytes pad to 32: lengths show only to 16 bytes */
    assert_true(pb_pii_seal("p-1", "first_name", "0123456789abcdef", out, sizeof out));
    assert_int_equal(strlen(out), 3 + 2 * (40 + 32));
    assert_true(pb_pii_seal("p-1", "first_name", "0123456789abcde", out, sizeof out));
    assert_int_equal(strlen(out), 115);
    /* too small a buffer is refused, not cut */
    assert_false(pb_pii_seal("p-1", "first_name", "A", out, 100));
    /* upper-case hex is not the sealed form */
    assert_true(pb_pii_seal("p-1", "first_name", "A", out, sizeof out));
    for (char *c = out + 3; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    assert_false(pb_pii_is_sealed(out));
}

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* What the name matcher must answer: open the box, compare ASCII-folded. */
static bool opened_starts_with(const char *pid, const char *field, const char *stored,
                               const char *prefix)
{
    char name[PB_PLAYER_NAME_MAX + 1];
    if (!pb_pii_open(pid, field, stored, name, sizeof name) || strlen(name) < strlen(prefix))
        return false;
    for (size_t i = 0; prefix[i]; i++)
        if (fold((unsigned char)name[i]) != fold((unsigned char)prefix[i]))
            return false;
    return true;
}

/* The matcher deciphers a name's first bytes before it opens the box (most rows
 * of a search are ruled out there): on random names and prefixes of every length
 * around the padding it answers as opening every box does; a box whose tag was
 * changed (its text still deciphers to the name) and one whose text was changed
 * match nothing. */
static void name_match_agrees_with_opening(void **state)
{
    (void)state;
    static const char alphabet[] = "aAbBzZ-' \xc3\xab";
    char name[40], prefix[48], stored[PB_PLAYER_NAME_STORED_MAX + 1];
    unsigned seed = 20261122;
    int hits = 0, rounds = 4000;
    for (int i = 0; i < rounds; i++) {
        size_t len = 1 + (size_t)rand_r(&seed) % 34;
        for (size_t j = 0; j < len; j++)
            name[j] = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
        name[len] = '\0';
        assert_true(pb_pii_seal("p-9", "last_name", name, stored, sizeof stored));
        size_t plen = (size_t)rand_r(&seed) % (len + 3);
        for (size_t j = 0; j < plen; j++) {
            char c = j < len ? name[j] : 'a';
            if (rand_r(&seed) % 2)
                c = (char)(c >= 'a' && c <= 'z' ? c - 32 : c >= 'A' && c <= 'Z' ? c + 32 : c);
            prefix[j] = c;
        }
        if (plen && rand_r(&seed) % 4 == 0)
            prefix[(size_t)rand_r(&seed) % plen] = 'q';
        prefix[plen] = '\0';
        bool want = opened_starts_with("p-9", "last_name", stored, prefix);
        assert_int_equal(pb_pii_name_match(NULL, "p-9", "last_name", stored, prefix), want);
        hits += want;
    }
    assert_true(hits > rounds / 5 && hits < rounds - rounds / 5); /* both answers tried */

    assert_true(pb_pii_seal("p-9", "first_name", "Adalbert", stored, sizeof stored));
    assert_true(pb_pii_name_match(NULL, "p-9", "first_name", stored, "adal"));
    assert_false(pb_pii_name_match(NULL, "p-8", "first_name", stored, "adal")); /* copied */
    size_t n = strlen(stored);
    stored[n - 1] = stored[n - 1] == '0' ? '1' : '0'; /* the tag's last hex digit */
    assert_false(pb_pii_name_match(NULL, "p-9", "first_name", stored, "adal"));
    assert_true(pb_pii_seal("p-9", "first_name", "Adalbert", stored, sizeof stored));
    char *text = stored + 3 + 2 * PB_SEALBOX_NONCE_LEN; /* the first enciphered byte */
    text[0] = text[0] == '0' ? '1' : '0';
    assert_false(pb_pii_name_match(NULL, "p-9", "first_name", stored, "a"));
    /* 15 bytes pad to 16: a 15-byte prefix can match, a 16-byte one cannot */
    assert_true(pb_pii_seal("p-9", "first_name", "Maximilianusabc", stored, sizeof stored));
    assert_true(pb_pii_name_match(NULL, "p-9", "first_name", stored, "maximilianusABC"));
    assert_false(pb_pii_name_match(NULL, "p-9", "first_name", stored, "maximilianusABCd"));
    assert_true(pb_pii_name_match(NULL, "p-9", "first_name", stored, ""));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ifx_setup, ifx_teardown)
    const struct CMUnitTest tests[] = {
        T(sealed_at_rest_opened_on_read),  T(copied_values_do_not_open),
        T(another_keys_directory),         T(clear_rows_sealed_at_start_once),
        T(name_search_opens_names),        T(sealed_form_is_unambiguous),
        T(name_match_agrees_with_opening),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
