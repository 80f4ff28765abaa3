/*
 * test_rbac.c — the one permission table: every role against a sample of
 * permissions, the auditor's read-only rule over the whole table, admin holding
 * everything, names that parse back, and pb_identity_authorize's checks.
 */
#include <string.h>

#include "fixture.h"

static void roles_against_permissions(void **state)
{
    (void)state;
    /* columns: admin support finance risk compliance game_ops auditor */
    static const struct {
        pb_perm perm;
        const char *grants;
    } rows[] = {
        {PB_PERM_PLAYERS_READ, "xxxxx.x"},         {PB_PERM_PLAYERS_BLOCK, "xx.xx.."},
        {PB_PERM_PLAYERS_LEDGER_READ, "xxxxx.x"},  {PB_PERM_STAFF_MANAGE, "x......"},
        {PB_PERM_PLAYERS_EXPORT, "x...x.."},       {PB_PERM_PLAYERS_ERASE, "x...x.."},
        {PB_PERM_BRANDS_READ, "xxxxxxx"},          {PB_PERM_BRANDS_MANAGE, "x......"},
        {PB_PERM_AUDIT_READ, "x...x.x"},           {PB_PERM_AUDIT_EXPORT, "x.....x"},
        {PB_PERM_FINANCE_ADJUST, "x.x...."},       {PB_PERM_FINANCE_WITHDRAWALS_APPROVE, "x.x...."},
        {PB_PERM_RISK_MANAGE, "x..x..."},          {PB_PERM_COMPLIANCE_KYC_MANAGE, "x...x.."},
        {PB_PERM_COMPLIANCE_RG_MANAGE, "x...x.."}, {PB_PERM_GAMES_MANAGE, "x....x."},
        {PB_PERM_BONUS_MANAGE, "x....x."},         {PB_PERM_REPORTS_EXPORT, "x.x.x.."},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (int r = 0; r < PB_ROLE_COUNT_; r++)
            if (pb_rbac_allows((pb_role)r, rows[i].perm) != (rows[i].grants[r] == 'x'))
                fail_msg("%s / %s: want %s", pb_role_name((pb_role)r), pb_perm_name(rows[i].perm),
                         rows[i].grants[r] == 'x' ? "allowed" : "denied");
}

static void auditor_is_read_only_and_admin_holds_all(void **state)
{
    (void)state;
    for (int p = 0; p < PB_PERM_COUNT_; p++) {
        const char *name = pb_perm_name((pb_perm)p);
        size_t n = strlen(name);
        bool read = n > 5 && strcmp(name + n - 5, ".read") == 0;
        bool audit = strncmp(name, "audit.", 6) == 0;
        if (pb_rbac_allows(PB_ROLE_AUDITOR, (pb_perm)p))
            assert_true(read || audit);
        assert_true(pb_rbac_allows(PB_ROLE_ADMIN, (pb_perm)p));
        /* every permission is held by someone besides admin, or is admin's alone by design */
        pb_perm back;
        assert_int_equal(pb_perm_parse(name, &back), PB_OK);
        assert_int_equal(back, p);
    }
    /* the auditor can read what it audits */
    assert_true(pb_rbac_allows(PB_ROLE_AUDITOR, PB_PERM_PLAYERS_READ));
    assert_true(pb_rbac_allows(PB_ROLE_AUDITOR, PB_PERM_AUDIT_EXPORT));
    assert_false(pb_rbac_allows(PB_ROLE_AUDITOR, PB_PERM_PLAYERS_WRITE));
    /* out-of-range values are denied */
    assert_false(pb_rbac_allows(PB_ROLE_COUNT_, PB_PERM_PLAYERS_READ));
    assert_false(pb_rbac_allows(PB_ROLE_ADMIN, PB_PERM_COUNT_));
}

static void names(void **state)
{
    (void)state;
    const char *expect[] = {"admin",      "support",  "finance", "risk",
                            "compliance", "game_ops", "auditor"};
    for (int r = 0; r < PB_ROLE_COUNT_; r++) {
        pb_role back;
        assert_string_equal(pb_role_name((pb_role)r), expect[r]);
        assert_int_equal(pb_role_parse(expect[r], &back), PB_OK);
        assert_int_equal(back, r);
    }
    pb_role role;
    pb_perm perm;
    assert_int_equal(pb_role_parse("Admin", &role), PB_ERR_ROLE_INVALID);
    assert_int_equal(pb_role_parse(NULL, &role), PB_ERR_ROLE_INVALID);
    assert_string_equal(pb_role_name(PB_ROLE_COUNT_), "unknown");
    assert_int_equal(pb_perm_parse("players.*", &perm), PB_ERR_FIELD_INVALID);
    assert_null(pb_perm_name(PB_PERM_COUNT_));
    assert_true(pb_role_may_be_global(PB_ROLE_ADMIN) && pb_role_may_be_global(PB_ROLE_AUDITOR));
    assert_false(pb_role_may_be_global(PB_ROLE_SUPPORT));
}

static void authorize(void **state)
{
    (void)state;
    pb_principal p = {.kind = PB_SUBJECT_STAFF,
                      .role = PB_ROLE_SUPPORT,
                      .session_scope = PB_SCOPE_FULL,
                      .scope = {.n = 2, .brand_ids = {3, 7}}};
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_PLAYERS_READ, 7), PB_OK);
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_PLAYERS_READ, 0), PB_OK);
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_PLAYERS_READ, 4), PB_ERR_BRAND_FORBIDDEN);
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_FINANCE_ADJUST, 3), PB_ERR_FORBIDDEN);
    p.session_scope = PB_SCOPE_SETUP;
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_PLAYERS_READ, 3), PB_ERR_FORBIDDEN);
    p.session_scope = PB_SCOPE_FULL;
    p.kind = PB_SUBJECT_PLAYER;
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_PLAYERS_READ, 3), PB_ERR_FORBIDDEN);
    assert_int_equal(pb_identity_authorize(NULL, PB_PERM_PLAYERS_READ, 3), PB_ERR_FORBIDDEN);
    pb_principal g = {.kind = PB_SUBJECT_STAFF, .role = PB_ROLE_ADMIN, .scope = {.all = true}};
    assert_int_equal(pb_identity_authorize(&g, PB_PERM_BRANDS_MANAGE, 12345), PB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles_against_permissions),
        cmocka_unit_test(auditor_is_read_only_and_admin_holds_all),
        cmocka_unit_test(names),
        cmocka_unit_test(authorize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
