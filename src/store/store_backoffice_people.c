/*
 * store_backoffice_people.c — dispatches the back office's people statements
 * to the connection's backend. Nothing here knows SQL; see
 * sqlite/sqlite_backoffice_people.c.
 */
#include "store/backend.h"

/* Each function forwards to the backend's backoffice_people ops table. */
pb_store_rc pb_store_player_note_insert(pb_store_conn *c, pb_store_player_note *n)
{
    return c->be->backoffice_people->note_insert(c, n);
}

pb_store_rc pb_store_player_note_list(pb_store_conn *c, int64_t player_id, int64_t before_id,
                                      pb_store_player_note *out, size_t cap, size_t *n)
{
    return c->be->backoffice_people->note_list(c, player_id, before_id, out, cap, n);
}

pb_store_rc pb_store_player_session_page(pb_store_conn *c, int64_t player_id, int64_t before_id,
                                         pb_store_session *out, size_t cap, size_t *n)
{
    return c->be->backoffice_people->session_page(c, player_id, before_id, out, cap, n);
}

pb_store_rc pb_store_player_round_page(pb_store_conn *c, const pb_store_round_query *q,
                                       pb_store_player_round *out, size_t cap, size_t *n)
{
    return c->be->backoffice_people->round_page(c, q, out, cap, n);
}

pb_store_rc pb_store_player_find(pb_store_conn *c, const pb_store_player_find_query *q,
                                 pb_store_player_hit *out, size_t cap, size_t *n)
{
    return c->be->backoffice_people->player_find(c, q, out, cap, n);
}
