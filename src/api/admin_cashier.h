/* admin_cashier.h — what the staff routes of the cashier share (admin_cashier.c,
 * admin_reconcile.c). */
#ifndef PB_API_ADMIN_CASHIER_H
#define PB_API_ADMIN_CASHIER_H

#include "api/admin.h"
#include "cashier/cashier.h"

/* The cashier's actor for a staff request: the member as the audit log records them
 * (pb_admin_entry), and their principal, re-checked inside the command. */
pb_cashier_actor pb_admin_cashier_actor(pb_http_request *req, const pb_principal *p);

#endif
