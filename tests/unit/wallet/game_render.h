/* game_render.h — the render callback the wallet's game tests give their
 * operations, as a protocol adapter would: a response that shows everything the
 * outcome holds (so comparing bytes means something). ctx, when not NULL, is an
 * int that counts the responses rendered. */
#ifndef PB_TEST_GAME_RENDER_H
#define PB_TEST_GAME_RENDER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallet/wallet.h"

static inline int game_render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                              pb_wallet_response *out)
{
    if (ctx)
        (*(int *)ctx)++;
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "%s|%s|cash=%lld|bonus=%lld|held=%lld|cp=%lld|bp=%lld|unknown=%d|at=%lld",
                     op->tx_id, o->result == PB_OK ? "OK" : pb_err_code(o->result),
                     (long long)o->cash, (long long)o->bonus, (long long)o->held,
                     (long long)o->cash_part, (long long)o->bonus_part, o->bet_unknown ? 1 : 0,
                     (long long)o->created_at);
    out->status = o->result == PB_OK ? 200 : pb_err_http_status(o->result);
    out->body = strdup(buf);
    out->body_len = (size_t)n;
    return out->body ? 0 : -1;
}

#endif
