/* error.c — lookup tables generated from the PB_ERRORS registry in error.h. */
#include "core/error.h"

#include <string.h>

static const struct {
    const char *code;
    int status;
    const char *message;
} table[] = {
#define PB_ERR_ROW_(name, st, msg) {#name, st, msg},
    PB_ERRORS(PB_ERR_ROW_)
#undef PB_ERR_ROW_
};

const char *pb_err_code(pb_err e)
{
    if ((unsigned)e >= PB_ERR_COUNT_)
        return "INTERNAL";
    return table[e].code;
}

const char *pb_err_message(pb_err e)
{
    if ((unsigned)e >= PB_ERR_COUNT_)
        return "internal error";
    return table[e].message;
}

int pb_err_http_status(pb_err e)
{
    if ((unsigned)e >= PB_ERR_COUNT_)
        return 500;
    return table[e].status;
}

bool pb_err_transient(pb_err e)
{
    return e == PB_ERR_INTERNAL || e == PB_ERR_STORE_UNAVAILABLE || e == PB_ERR_STORE_CORRUPT ||
           e == PB_ERR_LEDGER_REENTRANT;
}

pb_err pb_err_from_code(const char *code)
{
    for (unsigned i = 0; i < PB_ERR_COUNT_; i++)
        if (strcmp(table[i].code, code) == 0)
            return (pb_err)i;
    return PB_ERR_COUNT_;
}
