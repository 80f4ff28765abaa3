/*
 * plans.h — unit tests that check SQLite's query plans for the statements a store
 * connection has prepared (they stay prepared: the store caches them), so a missing
 * index shows as a failing test instead of a slow page in production.
 *
 * plans_each() goes through every statement prepared on `db`; for each that `pick`
 * accepts it runs EXPLAIN QUERY PLAN (every parameter bound to 1) and hands each
 * line of the plan to `line`, then calls `line` once more with detail == NULL when
 * that statement's plan is done. It returns how many statements it explained, so a
 * test can check that the ones it meant were there. PB_TEST_SHOW_PLANS=1 prints the
 * plans on stderr. Header-only (static inline); include after <cmocka.h>.
 */
#ifndef PB_TEST_PLANS_H
#define PB_TEST_PLANS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef bool (*plan_pick_fn)(const char *sql, void *ctx);
typedef void (*plan_line_fn)(const char *sql, const char *detail, void *ctx);

static inline int plans_each(sqlite3 *db, plan_pick_fn pick, plan_line_fn line, void *ctx)
{
    int explained = 0;
    bool show = getenv("PB_TEST_SHOW_PLANS") != NULL;
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st)) {
        const char *sql = sqlite3_sql(st);
        if (!sql || !pick(sql, ctx))
            continue;
        char *explain = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
        assert_non_null(explain);
        sqlite3_stmt *ex = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &ex, NULL), SQLITE_OK);
        for (int i = 1; i <= sqlite3_bind_parameter_count(ex); i++)
            sqlite3_bind_int64(ex, i, 1);
        while (sqlite3_step(ex) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(ex, 3);
            if (show)
                fprintf(stderr, "# %.60s…: %s\n", sql, detail ? detail : "");
            line(sql, detail ? detail : "", ctx);
        }
        sqlite3_finalize(ex);
        sqlite3_free(explain);
        line(sql, NULL, ctx);
        explained++;
    }
    return explained;
}

/* A plan line that reads all of a table, or all of one of its indexes ("SCAN t",
 * "SCAN t USING COVERING INDEX i"), as opposed to a search ("SEARCH t USING …").
 * With table == NULL, of any table. */
static inline bool plan_is_scan(const char *detail, const char *table)
{
    if (!detail || strncmp(detail, "SCAN ", 5) != 0)
        return false;
    if (!table)
        return true;
    size_t n = strlen(table);
    return strncmp(detail + 5, table, n) == 0 && (detail[5 + n] == '\0' || detail[5 + n] == ' ');
}

#endif
