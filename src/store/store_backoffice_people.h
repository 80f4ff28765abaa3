/*
 * store_backoffice_people.h — the statements behind the back office's people
 * pages (0013_backoffice_people.sql): staff notes on players, a player's login
 * sessions, a player's game rounds from both sources (in-house game_round and
 * provider wallet operations, merged in one keyset-paged list), and the
 * player search with sorting and balance filters. Included by store.h. Nothing
 * here decides anything: validation and scope live in src/api/.
 */
#ifndef PB_STORE_BACKOFFICE_PEOPLE_H
#define PB_STORE_BACKOFFICE_PEOPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_NOTE_TEXT_MAX 8000 /* bytes: 2000 characters of up to 4 bytes */
#define PB_ROUND_ID_MAX 127
#define PB_ROUND_TEXT_MAX 63

/* A staff note on a player (append-only). */
typedef struct pb_store_player_note {
    int64_t id;
    int64_t player_id;
    int64_t brand_id;
    char author_id[PB_PUBLIC_ID_MAX + 1];
    char author_email[PB_EMAIL_MAX + 1];
    char text[PB_NOTE_TEXT_MAX + 1];
    int64_t created_at;
} pb_store_player_note;

/* One game round of a player, from either source. */
typedef struct pb_store_player_round {
    char source[12];              /* original | provider */
    char id[PB_ROUND_ID_MAX + 1]; /* game_round.id, or the provider's round id */
    char provider[PB_ROUND_TEXT_MAX + 1];
    char game[PB_ROUND_TEXT_MAX + 1];
    char currency[8];
    int64_t bet;      /* minor units: the stake(s) placed */
    int64_t win;      /* minor units: the payout(s) */
    int64_t refunded; /* provider: rolled back stakes */
    char status[16];  /* open | settled | void (in-house) | closed | rolled_back */
    /* in-house: game_round.state (pending | active | settling | settled |
     * voiding | void; status says open for the first four and voiding);
     * "" for a provider round */
    char state[12];
    int64_t started_at;
    int64_t settled_at; /* 0: not yet */
    bool has_multiplier;
    int64_t multiplier; /* original: the rules' scale */
    bool has_rtp_bp;
    int64_t rtp_bp;
} pb_store_player_round;

/* The position after the last row of a rounds page (all zero: the first page). */
typedef struct pb_store_round_pos {
    int64_t started_at; /* 0: no position */
    char source[12];
    char provider[PB_ROUND_TEXT_MAX + 1];
    char id[PB_ROUND_ID_MAX + 1];
} pb_store_round_pos;

typedef struct pb_store_round_query {
    const char *player;         /* public id */
    const char *source;         /* NULL: both */
    const char *game;           /* NULL: every game */
    int64_t from, to;           /* started_at in [from, to); 0: open */
    const char *house_provider; /* the in-house provider's code, not listed as a provider */
    pb_store_round_pos after;   /* keyset: rows strictly after this position */
} pb_store_round_query;

/* Sort keys of the player search. */
typedef enum pb_store_player_sort {
    PB_STORE_SORT_CREATED = 0,
    PB_STORE_SORT_EMAIL,
    PB_STORE_SORT_LAST_LOGIN,
    PB_STORE_SORT_BALANCE,
} pb_store_player_sort;

/* Whether the name stored for a player (opaque text as the store holds it; never
 * '') starts with prefix, ASCII letters compared without case: the domain opens
 * a sealed value (bound to public_id and field, "first_name" or "last_name")
 * and compares the opened name. Called once per candidate row and name. */
typedef bool (*pb_store_name_match_fn)(void *ctx, const char *public_id, const char *field,
                                       const char *stored, const char *prefix);

/* The extended player search; NULL / zero fields do not filter. */
typedef struct pb_store_player_find_query {
    bool all_brands;
    const int64_t *brand_ids; /* when !all_brands: only these */
    size_t nbrands;
    int64_t brand_id;         /* 0: every brand in scope */
    const char *q_id;         /* q: exact public id ... */
    const char *q_email;      /* ... or email prefix (lower-cased) ... */
    const char *q_name;       /* ... or first / last name prefix (case-insensitive) */
    const char *email_prefix; /* lower-cased */
    const char *name_prefix;
    /* how q_name and name_prefix meet a stored name; NULL: the stored text is
     * compared as it is (a clear name) */
    pb_store_name_match_fn name_match;
    void *name_match_ctx;
    const char *country;
    const char *status;
    int64_t created_from, created_to;
    const char *currency; /* the balance's currency (needed by balance_* and sort balance) */
    bool has_min, has_max;
    int64_t balance_min, balance_max; /* minor units, inclusive */
    pb_store_player_sort sort;
    bool asc;
    bool has_cursor;         /* keyset: rows strictly after (key, id) in this order */
    int64_t cursor_int;      /* the key, for integer sorts */
    const char *cursor_text; /* the key, for email */
    int64_t cursor_id;
} pb_store_player_find_query;

/* One search hit: the player and their sort key. */
typedef struct pb_store_player_hit {
    int64_t id;
    char public_id[PB_PUBLIC_ID_MAX + 1];
    int64_t key_int;
    char key_text[PB_EMAIL_MAX + 1];
} pb_store_player_hit;

/* Appends a note; assigns n->id. */
pb_store_rc pb_store_player_note_insert(pb_store_conn *c, pb_store_player_note *n);
/* Up to cap notes of a player with id < before_id (0: no bound), newest first. */
pb_store_rc pb_store_player_note_list(pb_store_conn *c, int64_t player_id, int64_t before_id,
                                      pb_store_player_note *out, size_t cap, size_t *n);
/* Up to cap sessions (any state) of a player with id < before_id (0: no bound), newest first. */
pb_store_rc pb_store_player_session_page(pb_store_conn *c, int64_t player_id, int64_t before_id,
                                         pb_store_session *out, size_t cap, size_t *n);
/* Up to cap rounds matching q, newest started first (ties: source, provider, id descending). */
pb_store_rc pb_store_player_round_page(pb_store_conn *c, const pb_store_round_query *q,
                                       pb_store_player_round *out, size_t cap, size_t *n);
/* Up to cap players matching q in q's order. */
pb_store_rc pb_store_player_find(pb_store_conn *c, const pb_store_player_find_query *q,
                                 pb_store_player_hit *out, size_t cap, size_t *n);
/* What a backend implements for the back office's people pages (see backend.h). */
struct pb_store_backoffice_people_ops {
    pb_store_rc (*note_insert)(pb_store_conn *c, pb_store_player_note *n);
    pb_store_rc (*note_list)(pb_store_conn *c, int64_t player_id, int64_t before_id,
                             pb_store_player_note *out, size_t cap, size_t *n);
    pb_store_rc (*session_page)(pb_store_conn *c, int64_t player_id, int64_t before_id,
                                pb_store_session *out, size_t cap, size_t *n);
    pb_store_rc (*round_page)(pb_store_conn *c, const pb_store_round_query *q,
                              pb_store_player_round *out, size_t cap, size_t *n);
    pb_store_rc (*player_find)(pb_store_conn *c, const pb_store_player_find_query *q,
                               pb_store_player_hit *out, size_t cap, size_t *n);
};

extern const struct pb_store_backoffice_people_ops pb_store_sqlite_backoffice_people_ops;

#endif
