/*
 * admin_4eyes.c — what the staff routes whose money waits for a second approver
 * share (private to src/api/, declared in admin.h): the staff adjustments'
 * requests (admin_adjust.c, admin_adjust_4eyes.c) and the unclaimed-funds
 * settlement requests (admin_unclaimed_settle.c). Both keep a request row with a
 * status and requested_at, decide it inside a ledger command after re-checking the
 * caller there, and read a pending request past its brand's expiry as expired.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"

bool pb_admin_request_due(const char *status, int64_t requested_at, int64_t expiry_us, int64_t now)
{
    return strcmp(status, "pending") == 0 && now - requested_at >= expiry_us;
}

pb_err pb_admin_principal_recheck(pb_ledger_tx *tx, const pb_principal *p, pb_err *refusal)
{
    pb_err e = pb_identity_principal_check(pb_ledger_tx_conn(tx), p, pb_ledger_tx_now(tx));
    if (e == PB_ERR_INTERNAL || pb_err_transient(e))
        return PB_ERR_INTERNAL;
    *refusal = e; /* PB_OK, or SESSION_REVOKED / FORBIDDEN: nothing submitted */
    return PB_OK;
}

char *pb_admin_expiry_by_brand(const pb_brand *bs, size_t n, int64_t (*expiry_us)(const pb_brand *))
{
    json_t *codes = json_object();
    for (size_t i = 0; codes && i < n; i++)
        if (json_object_set_new(codes, bs[i].code, json_integer((json_int_t)expiry_us(&bs[i]))) !=
            0) {
            json_decref(codes);
            codes = NULL;
        }
    char *text = codes ? json_dumps(codes, JSON_COMPACT) : NULL;
    json_decref(codes);
    return text;
}
