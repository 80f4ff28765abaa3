/*
 * store_catalog.c — dispatches the catalog's store calls to the connection's
 * backend. Nothing here knows SQL; see sqlite/sqlite_catalog.c.
 */
#include "store/backend.h"

/* Each function forwards to the backend's catalog ops table. */
pb_store_rc pb_store_provider_insert(pb_store_conn *c, pb_store_provider *p)
{
    return c->be->catalog->provider_insert(c, p);
}

pb_store_rc pb_store_provider_update(pb_store_conn *c, const pb_store_provider *p)
{
    return c->be->catalog->provider_update(c, p);
}

pb_store_rc pb_store_provider_get(pb_store_conn *c, int64_t id, pb_store_provider *out)
{
    return c->be->catalog->provider_get(c, id, out);
}

pb_store_rc pb_store_provider_by_code(pb_store_conn *c, const char *code, pb_store_provider *out)
{
    return c->be->catalog->provider_by_code(c, code, out);
}

pb_store_rc pb_store_provider_list(pb_store_conn *c, int64_t after_id, pb_store_provider *out,
                                   size_t cap, size_t *n)
{
    return c->be->catalog->provider_list(c, after_id, out, cap, n);
}

pb_store_rc pb_store_game_insert(pb_store_conn *c, pb_store_game *g)
{
    return c->be->catalog->game_insert(c, g);
}

pb_store_rc pb_store_game_update(pb_store_conn *c, const pb_store_game *g)
{
    return c->be->catalog->game_update(c, g);
}

pb_store_rc pb_store_game_get(pb_store_conn *c, int64_t id, pb_store_game *out)
{
    return c->be->catalog->game_get(c, id, out);
}

pb_store_rc pb_store_game_by_code(pb_store_conn *c, int64_t provider_id, const char *code,
                                  pb_store_game *out)
{
    return c->be->catalog->game_by_code(c, provider_id, code, out);
}

pb_store_rc pb_store_game_list(pb_store_conn *c, const pb_store_game_filter *f, int64_t after_id,
                               pb_store_game *out, size_t cap, size_t *n)
{
    return c->be->catalog->game_list(c, f, after_id, out, cap, n);
}

pb_store_rc pb_store_game_brand_set(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                    bool enabled, int64_t now)
{
    return c->be->catalog->game_brand_set(c, game_id, brand_id, enabled, now);
}

pb_store_rc pb_store_game_brand_get(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                    bool *enabled)
{
    return c->be->catalog->game_brand_get(c, game_id, brand_id, enabled);
}

pb_store_rc pb_store_launch_insert(pb_store_conn *c, const pb_store_launch *l)
{
    return c->be->catalog->launch_insert(c, l);
}

pb_store_rc pb_store_launch_get(pb_store_conn *c, const uint8_t hash[PB_STORE_LAUNCH_HASH_LEN],
                                pb_store_launch *out)
{
    return c->be->catalog->launch_get(c, hash, out);
}

pb_store_rc pb_store_launch_prune(pb_store_conn *c, int64_t before, int64_t *n)
{
    return c->be->catalog->launch_prune(c, before, n);
}

pb_store_rc pb_store_launch_revoke_player(pb_store_conn *c, const char *player, int64_t now,
                                          int64_t *n)
{
    return c->be->catalog->launch_revoke_player(c, player, now, n);
}
