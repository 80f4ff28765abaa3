/*
 * catalog_internal.h — what catalog.c and launch.c share (private to src/catalog/).
 */
#ifndef PB_CATALOG_INTERNAL_H
#define PB_CATALOG_INTERNAL_H

#include <string.h>

#include "catalog/catalog.h"

/* Copies the string src into dst of cap bytes, truncating, always NUL-terminated. */
static inline void pb_catalog_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}
#define PB_CATALOG_COPY(dst, src) pb_catalog_copy((dst), sizeof(dst), (src))

/* Maps a store result: OK, not_found, BUSY → STORE_UNAVAILABLE, else INTERNAL (logged). */
pb_err pb_catalog_store_err(pb_store_conn *c, pb_store_rc r, pb_err not_found, const char *what);
/* Row ↔ domain struct. */
void pb_catalog_provider_from_row(const pb_store_provider *r, pb_provider *p);
void pb_catalog_game_from_row(const pb_store_game *r, pb_game *g);
/* secret.c: a native provider's key between the row (sealed when there is a
 * key) and the struct (opened; secret_unavailable when it does not open). */
void pb_catalog_secret_to_row(const pb_provider *p, pb_store_provider *r);
void pb_catalog_secret_from_row(const pb_store_provider *r, pb_provider *p);
/* True when stored (len bytes) is a sealed key rather than one in the clear. */
bool pb_catalog_secret_is_sealed(const uint8_t *stored, size_t len);
/* The provider's id by code (PROVIDER_NOT_FOUND). */
pb_err pb_catalog_provider_id(pb_store_conn *c, const char *code, int64_t *id);
/* A game by its provider's id and its code (GAME_NOT_FOUND). */
pb_err pb_catalog_game_by_provider(pb_store_conn *c, int64_t provider_id, const char *game_code,
                                   pb_game *out);
/* launch.c's playability cache (see there): every catalog write calls forget;
 * tune sets its time to live and the quiet time after a write (tests). */
void pb_catalog_play_cache_forget(void);
/* A provider write: forgets the play cache and the adapters' provider caches
 * (catalog.c); called as the write starts. */
void pb_catalog_provider_written(void);
void pb_catalog_play_cache_tune(int64_t ttl_us, int64_t quiet_us);

#endif
