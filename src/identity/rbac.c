/*
 * rbac.c — THE table of staff permissions: which role grants which permission.
 *
 * Every staff API route names one permission (identity.h PB_PERMISSIONS); the
 * API checks it with pb_identity_authorize(), which also applies the brand
 * scope. There is no other place where a role's rights are decided.
 *
 *   permission                    admin support finance risk compliance game_ops auditor
 *   players.read                    x      x       x      x       x                 x
 *   players.pii.read                x      x                      x                 x
 *   players.write                   x      x
 *   players.block                   x      x              x       x
 *   players.sessions.manage         x      x
 *   players.ledger.read             x      x       x      x       x                 x
 *   players.export                  x                             x
 *   players.erase                   x                             x
 *   staff.read                      x                                               x
 *   staff.manage                    x
 *   brands.read                     x      x       x      x       x         x       x
 *   brands.manage                   x
 *   audit.read                      x                             x                 x
 *   audit.export                    x                                               x
 *   finance.read                    x              x      x                         x
 *   finance.adjust                  x              x
 *   finance.withdrawals.approve     x              x
 *   risk.read                       x                     x       x                 x
 *   risk.manage                     x                     x
 *   compliance.read                 x                     x       x                 x
 *   compliance.kyc.manage           x                             x
 *   compliance.rg.manage            x                             x
 *   games.read                      x      x                                x       x
 *   games.manage                    x                                       x
 *   bonus.read                      x      x       x                        x       x
 *   bonus.manage                    x                                       x
 *   reports.read                    x              x      x       x         x       x
 *   reports.export                  x              x              x
 *
 * The auditor is read-only: only *.read permissions and audit.* (a test checks it).
 */
#include <string.h>

#include "identity/identity_internal.h"

#define ADM (1u << PB_ROLE_ADMIN)
#define SUP (1u << PB_ROLE_SUPPORT)
#define FIN (1u << PB_ROLE_FINANCE)
#define RSK (1u << PB_ROLE_RISK)
#define CMP (1u << PB_ROLE_COMPLIANCE)
#define GOP (1u << PB_ROLE_GAME_OPS)
#define AUD (1u << PB_ROLE_AUDITOR)

/* The table above, one row per permission: the set of roles that hold it. */
static const unsigned GRANTS[PB_PERM_COUNT_] = {
    [PB_PERM_PLAYERS_READ] = ADM | SUP | FIN | RSK | CMP | AUD,
    [PB_PERM_PLAYERS_PII_READ] = ADM | SUP | CMP | AUD,
    [PB_PERM_PLAYERS_WRITE] = ADM | SUP,
    [PB_PERM_PLAYERS_BLOCK] = ADM | SUP | RSK | CMP,
    [PB_PERM_PLAYERS_SESSIONS_MANAGE] = ADM | SUP,
    [PB_PERM_PLAYERS_LEDGER_READ] = ADM | SUP | FIN | RSK | CMP | AUD,
    [PB_PERM_PLAYERS_EXPORT] = ADM | CMP, /* everything about a player, for their request */
    [PB_PERM_PLAYERS_ERASE] = ADM | CMP,
    [PB_PERM_STAFF_READ] = ADM | AUD,
    [PB_PERM_STAFF_MANAGE] = ADM,
    [PB_PERM_BRANDS_READ] = ADM | SUP | FIN | RSK | CMP | GOP | AUD,
    [PB_PERM_BRANDS_MANAGE] = ADM,
    [PB_PERM_AUDIT_READ] = ADM | CMP | AUD,
    [PB_PERM_AUDIT_EXPORT] = ADM | AUD,
    [PB_PERM_FINANCE_READ] = ADM | FIN | RSK | AUD,
    [PB_PERM_FINANCE_ADJUST] = ADM | FIN,
    [PB_PERM_FINANCE_WITHDRAWALS_APPROVE] = ADM | FIN,
    [PB_PERM_RISK_READ] = ADM | RSK | CMP | AUD,
    [PB_PERM_RISK_MANAGE] = ADM | RSK,
    [PB_PERM_COMPLIANCE_READ] = ADM | RSK | CMP | AUD,
    [PB_PERM_COMPLIANCE_KYC_MANAGE] = ADM | CMP,
    [PB_PERM_COMPLIANCE_RG_MANAGE] = ADM | CMP,
    [PB_PERM_GAMES_READ] = ADM | SUP | GOP | AUD,
    [PB_PERM_GAMES_MANAGE] = ADM | GOP,
    [PB_PERM_BONUS_READ] = ADM | SUP | FIN | GOP | AUD,
    [PB_PERM_BONUS_MANAGE] = ADM | GOP,
    [PB_PERM_REPORTS_READ] = ADM | FIN | RSK | CMP | GOP | AUD,
    [PB_PERM_REPORTS_EXPORT] = ADM | FIN | CMP,
};

static const char *const ROLE_NAMES[PB_ROLE_COUNT_] = {
    [PB_ROLE_ADMIN] = "admin",           [PB_ROLE_SUPPORT] = "support",
    [PB_ROLE_FINANCE] = "finance",       [PB_ROLE_RISK] = "risk",
    [PB_ROLE_COMPLIANCE] = "compliance", [PB_ROLE_GAME_OPS] = "game_ops",
    [PB_ROLE_AUDITOR] = "auditor",
};

static const char *const PERM_NAMES[PB_PERM_COUNT_] = {
#define PB_PERM_NAME_(id, name) [PB_PERM_##id] = name,
    PB_PERMISSIONS(PB_PERM_NAME_)
#undef PB_PERM_NAME_
};

/* One lookup in GRANTS. */
bool pb_rbac_allows(pb_role role, pb_perm perm)
{
    if ((unsigned)role >= PB_ROLE_COUNT_ || (unsigned)perm >= PB_PERM_COUNT_)
        return false;
    return (GRANTS[perm] & (1u << role)) != 0;
}

/* The role's stored name. */
const char *pb_role_name(pb_role role)
{
    return (unsigned)role < PB_ROLE_COUNT_ ? ROLE_NAMES[role] : "unknown";
}

/* Exact, case-sensitive match on the stored names. */
pb_err pb_role_parse(const char *name, pb_role *out)
{
    for (int r = 0; name && r < PB_ROLE_COUNT_; r++) {
        if (strcmp(name, ROLE_NAMES[r]) == 0) {
            *out = (pb_role)r;
            return PB_OK;
        }
    }
    return PB_ERR_ROLE_INVALID;
}

/* The permission's name in routes and docs. */
const char *pb_perm_name(pb_perm perm)
{
    return (unsigned)perm < PB_PERM_COUNT_ ? PERM_NAMES[perm] : NULL;
}

/* Exact match on the permission names. */
pb_err pb_perm_parse(const char *name, pb_perm *out)
{
    for (int p = 0; name && p < PB_PERM_COUNT_; p++) {
        if (strcmp(name, PERM_NAMES[p]) == 0) {
            *out = (pb_perm)p;
            return PB_OK;
        }
    }
    return PB_ERR_FIELD_INVALID;
}

/* Only admin and auditor may hold every brand. */
bool pb_role_may_be_global(pb_role role)
{
    return role == PB_ROLE_ADMIN || role == PB_ROLE_AUDITOR;
}

/* Staff, full session, role grants perm, brand in scope — in that order. */
pb_err pb_identity_authorize(const pb_principal *p, pb_perm perm, int64_t brand_id)
{
    if (!p || p->kind != PB_SUBJECT_STAFF || p->session_scope != PB_SCOPE_FULL)
        return PB_ERR_FORBIDDEN;
    if (!pb_rbac_allows(p->role, perm))
        return PB_ERR_FORBIDDEN;
    if (brand_id != 0 && !pb_brand_scope_allows(&p->scope, brand_id))
        return PB_ERR_BRAND_FORBIDDEN;
    return PB_OK;
}
