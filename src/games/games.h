/*
 * games.h — pitboss's provably fair in-house games: the fairness engine and the
 * rules of every game, as pure code (no database, no money movement, no I/O).
 *
 * This header is the only door of src/games/. The money side (seeds in the
 * database, bets through the wallet, rounds, HTTP) calls it; `pitboss fair
 * verify` and `pitboss sim rtp` call it too, so an outside verifier, the
 * simulation and the settled round all run the same code.
 *
 * The scheme (issue 5, exactly as the major crypto casinos publish it):
 *   server seed  32 random bytes written as 64 lowercase hex characters;
 *   commitment   SHA-256 of that 64-character ASCII string, as 64 lowercase hex,
 *                shown before play; rotating the pair reveals the old seed;
 *   client seed  player-settable: 1..64 printable ASCII characters (0x21..0x7e)
 *                except ':' (the message separator) — PB_FAIR_CLIENT_SEED_MAX;
 *   nonce        uint64, 0 for the first bet of a pair, +1 per bet;
 *   bytes        HMAC_SHA256(key = server seed ASCII hex,
 *                            message = "<client seed>:<nonce>:<round>")
 *                with nonce and round in decimal, round = 0, 1, 2, … supplying
 *                32 bytes each, consumed in order;
 *   floats       4 consecutive bytes b0..b3 give
 *                f = b0/256 + b1/256² + b2/256³ + b3/256⁴ (exact in a double).
 * Every game maps floats to outcomes with floor(f·N); the code computes it as
 * (u·N) >> 32 with u = b0<<24|b1<<16|b2<<8|b3, which is the same integer
 * (f = u/2³², both sides exact), and never uses a double for an outcome.
 *
 * Money is never floating point. Multipliers are int64 in 1/10000 units
 * (PB_MULT_ONE = 10000 is 1.00x; 1.98x = 19800). RTP and house edge are basis
 * points (RTP 9900 = 99.00%, edge = 10000 − RTP). A payout is int64 minor units
 * = floor(bet × multiplier / 10000), computed with a 128-bit intermediate and
 * overflow-checked: every rounding is a floor, i.e. in the house's favour.
 * Displayed results (dice roll, limbo result, crash point) are integers in
 * hundredths (2807 = 28.07).
 *
 * RTP: every game has {min_rtp_bp, max_rtp_bp, default_rtp_bp} (pb_game_info);
 * the money side stores the configured RTP per game and brand and passes it in.
 * Formula games (dice, limbo, crash, mines) use it in their formula. Paytable
 * games (keno, plinko, slot) scale pitboss's base tables by configured/base RTP
 * and floor each entry to 0.01x; the exact RTP that the floored table gives is
 * what pb_game_rtp() returns and is the RTP in force (it is ≤ the configured
 * figure). Roulette's RTP is fixed by the wheel (36/37); its range is one value.
 *
 * Thread safety: everything here is reentrant; a pb_fair_key may be shared
 * read-only between threads. Nothing allocates except the *_json functions
 * (the caller owns and json_decref()s what they return).
 */
#ifndef PB_GAMES_GAMES_H
#define PB_GAMES_GAMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/money.h"

/* ======================================================================== */
/* Fairness engine (fair.c)                                                 */
/* ======================================================================== */

#define PB_FAIR_SEED_HEX_LEN 64    /* server seed and commitment: 64 lowercase hex */
#define PB_FAIR_CLIENT_SEED_MAX 64 /* client seed: 1..64 characters */
#define PB_FAIR_HASH_HEX_LEN 64    /* any SHA-256 written as hex */

/*
 * A server seed keyed for HMAC-SHA256: the SHA-256 chaining values after the
 * key's inner (ipad) and outer (opad) block. Computed once per seed with
 * pb_fair_key_init, then every message costs only its own compression blocks.
 * Plain data: copy it, share it read-only between threads.
 */
typedef struct pb_fair_key {
    uint32_t inner[8]; /* SHA-256 state after compressing key ^ ipad */
    uint32_t outer[8]; /* SHA-256 state after compressing key ^ opad */
} pb_fair_key;

/*
 * The byte stream of one bet: HMAC blocks for rounds 0, 1, 2, … of
 * (client seed, nonce), consumed 4 bytes at a time. Initialise with
 * pb_fair_stream_init; it holds a pointer to the key (which must outlive it)
 * and a copy of the message prefix. The 4 bytes of a float never straddle two
 * rounds (32 is a multiple of 4). pb_fair_stream_prime and _reserve may
 * compute up to PB_FAIR_STREAM_BLOCKS rounds ahead in bulk; they are read in
 * round order.
 */
#define PB_FAIR_MSG_MAX (PB_FAIR_CLIENT_SEED_MAX + 1 + 20 + 1 + 10 + 1)
#define PB_FAIR_STREAM_BLOCKS 10 /* a slot round's 15 free spins: 75 floats */
typedef struct pb_fair_stream {
    const pb_fair_key *key;
    uint64_t nonce;            /* the bet's nonce (written in msg) */
    char msg[PB_FAIR_MSG_MAX]; /* "<client>:<nonce>:" then the round's digits */
    uint32_t client_len;       /* length of "<client>" */
    uint32_t prefix_len;       /* length of "<client>:<nonce>:" */
    uint32_t round;            /* the next round to compute */
    uint32_t pos;              /* next unread byte of buf */
    uint32_t len;              /* bytes of buf holding computed rounds (pos ≥ len: none left) */
    uint8_t buf[PB_FAIR_STREAM_BLOCKS * 32]; /* computed bytes: unread ones at pos..len, the
                                                 last of round − 1 at len − 1 */
} pb_fair_stream;

/* Writes a new server seed: 32 bytes from libsodium's CSPRNG as 64 lowercase
 * hex characters and a NUL into out. */
void pb_fair_server_seed_new(char out[PB_FAIR_SEED_HEX_LEN + 1]);

/* True when s is exactly 64 lowercase hex characters (a server seed, a
 * commitment or a crash game hash). */
bool pb_fair_hex64_valid(const char *s);

/* True when s is an acceptable client seed: 1..PB_FAIR_CLIENT_SEED_MAX
 * characters, each printable ASCII 0x21..0x7e and not ':'. */
bool pb_fair_client_seed_valid(const char *s);

/* The commitment of a server seed: SHA-256 of the len bytes of seed (the ASCII
 * hex string, not the bytes it encodes) as 64 lowercase hex and a NUL. Also
 * the crash chain's step (the hash of the next game's hash hex). */
void pb_fair_sha256_hex(const char *seed, size_t len, char out[PB_FAIR_HASH_HEX_LEN + 1]);
/* steps steps of a crash chain from `from` (64 lowercase hex): each step the
 * SHA-256 of the one before's 64 hex characters, as hex (pb_fair_sha256_hex).
 * every: step i + 1 into out[i] (steps entries); else only the last into
 * out[0]. Nothing when steps is 0. With SHA-NI in registers (the hex's
 * words from the digest, the padding block's schedule once), else one
 * pb_fair_sha256_hex a step; the same hashes (tested). */
void pb_fair_chain(const char *from, size_t steps, char (*out)[PB_FAIR_HASH_HEX_LEN + 1],
                   bool every);

/* True when sha256_hex(server_seed) equals commitment (a rotated seed checks
 * against the commitment shown before play). Constant-time comparison. */
bool pb_fair_commitment_matches(const char *server_seed, const char *commitment);

/* Keys HMAC-SHA256 with the len bytes of key (the server seed's ASCII hex,
 * or a crash game hash's hex). Any length is accepted (HMAC hashes keys
 * longer than 64 bytes first). */
void pb_fair_key_init(pb_fair_key *k, const char *key, size_t len);
/* How this process hashes in bulk: "avx512-lanes" (sixteen HMACs at once),
 * "sha-ni" (pairs with the SHA extensions) or "libcrypto" (one at a time). With
 * both extensions the faster on this CPU, timed at first use (fair.c). */
const char *pb_fair_hash_path(void);

/* HMAC-SHA256(key, msg) for a message of any length into out. */
void pb_fair_hmac(const pb_fair_key *k, const void *msg, size_t len, uint8_t out[32]);

/* pb_fair_key_init(&k[i], keys[i], 64) for i < n — keys of exactly 64
 * characters (crash game hashes' hex) — sixteen at a time with AVX-512
 * (PITBOSS_FAIR_SIMD bit 2). The same keys (tested). */
void pb_fair_key_init_many(pb_fair_key *k, const char *const *keys, size_t n);

/* pb_fair_hmac(&k[i], msg, len, out[i]) for i < n: one message under n keys
 * (a crash salt under each game's hash), in bulk like pb_fair_stream_prime. */
void pb_fair_hmac_many(const pb_fair_key *k, size_t n, const void *msg, size_t len,
                       uint8_t (*out)[32]);

/* The crash h of n games whose hashes come from streams (a crash
 * simulation's rounds): game i's hash is the hex of round 0 of s[i]'s nonce
 * (pb_fair_block(s[i].key, client, s[i].nonce, 0), whatever s[i] has read),
 * and h[i] the first 4 bytes, big-endian, of HMAC_SHA256(key = that hex,
 * msg = salt) — pb_crash_point's h of that hash. With SHA-NI (and no
 * AVX-512, PITBOSS_FAIR_SIMD & 3 == 1) every step of a game runs in
 * registers, two games side by side; else in lanes like
 * pb_fair_stream_prime. The same h as one at a time (tested). */
void pb_fair_crash_h_many(const pb_fair_stream *s, size_t n, const char *salt, size_t salt_len,
                          uint32_t *h);

/* The crash h (pb_crash_point's) of n game hashes given as 64 lowercase hex
 * (a chain's, pb_crash_chain_generate) under one salt: the points of the
 * games a server plays from its chain. With SHA-NI (and no AVX-512) two games
 * side by side in registers, else keyed and hashed in lanes. The same h as
 * one at a time (tested). */
void pb_fair_crash_h_hex_many(const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n,
                              const char *salt, size_t salt_len, uint32_t *h);

/* Round `round` of the stream: HMAC-SHA256(key, "<client>:<nonce>:<round>").
 * client must be a valid client seed (not checked here: check it once with
 * pb_fair_client_seed_valid where it enters). */
void pb_fair_block(const pb_fair_key *k, const char *client, size_t client_len, uint64_t nonce,
                   uint32_t round, uint8_t out[32]);

/* Starts the stream of one bet at round 0, byte 0. client must be valid and at
 * most PB_FAIR_CLIENT_SEED_MAX characters (asserted). */
void pb_fair_stream_init(pb_fair_stream *s, const pb_fair_key *k, const char *client,
                         uint64_t nonce);

/* Restarts an initialised stream at round 0 of another nonce of the same key
 * and client seed — what pb_fair_stream_init(s, key, client, nonce) gives, but
 * a nonce a little above the current one is written by adding to its decimal
 * digits in place (batch callers walk the nonces in order). */
void pb_fair_stream_set_nonce(pb_fair_stream *s, uint64_t nonce);

/* pb_fair_stream_set_nonce(s, s->nonce + 1) (past UINT64_MAX: 0), its usual
 * case — the last digit not 9 — inline (a simulation steps every stream so). */
static inline void pb_fair_stream_next_nonce(pb_fair_stream *s)
{
    char *last = s->msg + s->prefix_len - 2;
    if (*last == '9' || s->nonce == UINT64_MAX) {
        pb_fair_stream_set_nonce(s, s->nonce + 1);
        return;
    }
    ++*last;
    s->nonce++;
    s->round = 0;
    s->pos = 0;
    s->len = 0;
}

/* Computes the next `blocks` rounds (1..PB_FAIR_STREAM_BLOCKS) of every
 * stream of s[0..n) whose bytes are used up (after pb_fair_stream_init: rounds
 * 0 .. blocks − 1) in bulk: sixteen HMACs at a time with AVX-512 (e.g. eight
 * streams × two rounds) or two at a time with interleaved SHA-NI when the CPU
 * has them — the very bytes pb_fair_stream_u32 would compute one round at a
 * time (tested), several times faster per round. Streams with unread bytes
 * are left alone; rounds past the primed ones are computed when read. For
 * batch callers (sim rtp, bench fair), which prime what a round of their game
 * reads (pb_game_blocks); PITBOSS_FAIR_SIMD=<mask> (1 SHA-NI, 2 AVX-512F+BW
 * (hashing, and with 4 keno's and mines' draws from primed floats), 4 BMI2
 * and POPCNT for those draws, 0 none) restricts the paths. */
void pb_fair_stream_prime(pb_fair_stream *s, size_t n, unsigned blocks);

/* Makes s hold the next `floats` floats (or as many as its buffer takes,
 * PB_FAIR_STREAM_BLOCKS rounds), computing the rounds it lacks in bulk like
 * pb_fair_stream_prime — for a game that learns mid-round how much more it
 * reads (the slot's free spins). The same bytes as reading on one round at a
 * time. */
void pb_fair_stream_reserve(pb_fair_stream *s, unsigned floats);

/* pb_fair_stream_reserve(s[i], floats[i]) for i < n, the rounds of all of
 * them queued as lanes together (sixteen to a kernel call: a batch pools
 * the slot's free spins of several rounds so). */
void pb_fair_stream_reserve_many(pb_fair_stream *const *s, const unsigned *floats, size_t n);

/* Computes the stream's next round into its buffer, one HMAC (what
 * pb_fair_stream_u32 calls when the buffered bytes are used up). */
void pb_fair_stream_refill(pb_fair_stream *s);

/* The next 4 bytes as u = b0<<24 | b1<<16 | b2<<8 | b3 (the float is u / 2³²). */
static inline uint32_t pb_fair_stream_u32(pb_fair_stream *s)
{
    if (s->pos >= s->len)
        pb_fair_stream_refill(s);
    const uint8_t *b = s->buf + s->pos;
    s->pos += 4;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The next n floats' 4n bytes in place when the stream holds them (primed),
 * consumed; NULL (nothing consumed) when it does not — read them one by one
 * with pb_fair_stream_u32 then. */
static inline const uint8_t *pb_fair_stream_take(pb_fair_stream *s, unsigned n)
{
    if (s->pos + 4 * n > s->len)
        return NULL;
    const uint8_t *b = s->buf + s->pos;
    s->pos += 4 * n;
    return b;
}

/* The next float f = u / 2³² in [0, 1), exact. For display and tests; games use
 * pb_fair_scale on the integer. */
double pb_fair_stream_float(pb_fair_stream *s);

/* floor(f · n) for the float f = u / 2³²: (u · n) >> 32, exact for every n ≤ 2³². */
static inline uint32_t pb_fair_scale(uint32_t u, uint32_t n)
{
    return (uint32_t)(((uint64_t)u * n) >> 32);
}

/* Inputs of one round of any game: the seed pair's key, the client seed and
 * nonce (every game but crash), or the crash game hash and salt (crash). */
typedef struct pb_game_input {
    const pb_fair_key *key;  /* pb_fair_key_init(server seed hex) */
    const char *client_seed; /* valid client seed */
    uint64_t nonce;
    const char *crash_hash; /* crash only: the game's hash, 64 lowercase hex */
    const char *crash_salt; /* crash only: the chain's public salt (any string) */
} pb_game_input;

/* ======================================================================== */
/* Multipliers and payouts                                                  */
/* ======================================================================== */

#define PB_MULT_ONE 10000 /* 1.00x in multiplier units (1/10000) */
#define PB_RTP_ONE 10000  /* 100.00% in basis points */

/* An exact RTP (rtp.c and the games): num / den (a fraction of the stake returned on average). */
typedef struct pb_rtp {
    uint64_t num;
    uint64_t den;
    uint32_t bp;  /* floor(num · 10000 / den): the RTP in force, basis points */
    double value; /* num / den, for statistics and display only */
} pb_rtp;

/* payout = floor(bet × mult / 10000) with a 128-bit intermediate. bet ≥ 0 and
 * mult ≥ 0. Returns 0, or -1 when the payout does not fit in int64 (*payout
 * untouched). */
int pb_game_payout_of(int64_t bet, int64_t mult, int64_t *payout);

/* ======================================================================== */
/* The games                                                                */
/* ======================================================================== */

typedef enum pb_game_kind {
    PB_GAME_NONE = 0,
    PB_GAME_DICE,
    PB_GAME_LIMBO,
    PB_GAME_CRASH,
    PB_GAME_MINES,
    PB_GAME_KENO,
    PB_GAME_PLINKO,
    PB_GAME_ROULETTE,
    PB_GAME_SLOT,
    PB_GAME_COUNT_
} pb_game_kind;

/* Static facts of a game. */
typedef struct pb_game_info {
    pb_game_kind kind;
    const char *name;    /* "dice", "limbo", … (the wire name) */
    uint32_t min_rtp_bp; /* allowed configured RTP range, inclusive */
    uint32_t max_rtp_bp;
    uint32_t default_rtp_bp; /* RTP when a brand configured none */
    bool multi_step;         /* mines: the money side keeps state between reveals */
    bool uses_hash_chain;    /* crash: outcome from (game hash, salt), not the seed pair */
} pb_game_info;

/* The game named name ("dice", …; exact, lower case), or PB_GAME_NONE. */
pb_game_kind pb_game_parse(const char *name);
/* The wire name of kind, or NULL for an unknown kind. */
const char *pb_game_name(pb_game_kind kind);
/* The static facts of kind, or NULL for an unknown kind. */
const pb_game_info *pb_game_info_of(pb_game_kind kind);
/* True when rtp_bp is within kind's allowed range. */
bool pb_game_rtp_allowed(pb_game_kind kind, uint32_t rtp_bp);

/* ---- dice (dice.c) ------------------------------------------------------
 * roll = floor(f · 10001) in hundredths, 0 (0.00) .. 10000 (100.00).
 * over target t: win when roll > t, win chance (10000 − t) hundredths of a %;
 * under target t: win when roll < t, win chance t.
 * multiplier = floor(rtp_bp · 10000 / chance) (= (1 − edge) · 100 / chance%).
 * Allowed chance 1 (0.01%) .. 9800 (98.00%): over t ∈ [200, 9999],
 * under t ∈ [1, 9800]. The true probability is chance/100 · 10000/10001 %, so
 * the exact RTP is a little under the configured one (see pb_game_rtp). */
#define PB_DICE_ROLL_MAX 10000
#define PB_DICE_CHANCE_MIN 1
#define PB_DICE_CHANCE_MAX 9800

typedef struct pb_dice_params {
    uint32_t target; /* hundredths */
    bool over;       /* true: roll over target; false: roll under */
} pb_dice_params;

/* roll in hundredths (0..10000) from one float of the stream. */
uint32_t pb_dice_roll(pb_fair_stream *s);
/* Win chance in hundredths of a percent for valid params, 0 for invalid ones. */
uint32_t pb_dice_chance(const pb_dice_params *p);
/* Multiplier for valid params at rtp_bp: floor(rtp_bp · 10000 / chance); 0 if invalid. */
int64_t pb_dice_multiplier(const pb_dice_params *p, uint32_t rtp_bp);
/* True when roll wins under p. */
bool pb_dice_wins(const pb_dice_params *p, uint32_t roll);

/* ---- limbo (limbo.c) ----------------------------------------------------
 * v = floor(f · 2²⁴); result = floor(2²⁴ / (v + 1) · rtp) in hundredths,
 * computed exactly as floor(2²⁴ · rtp_bp / (100 · (v + 1))), then at least
 * 100 (1.00x: the minimum shown; it changes no payout since every target is
 * ≥ 1.01x). Win when result ≥ target; the multiplier is the target. */
#define PB_LIMBO_TARGET_MIN 101       /* 1.01x, hundredths */
#define PB_LIMBO_TARGET_MAX 100000000 /* 1,000,000.00x: the max multiplier cap */

typedef struct pb_limbo_params {
    uint32_t target; /* hundredths, PB_LIMBO_TARGET_MIN..PB_LIMBO_TARGET_MAX */
} pb_limbo_params;

/* The result in hundredths (≥ 100) from one float of the stream. */
uint64_t pb_limbo_result(pb_fair_stream *s, uint32_t rtp_bp);
/* The same from the float's integer u (for tests and the crash point). */
uint64_t pb_limbo_result_u(uint32_t u, uint32_t rtp_bp);

/* ---- crash (crash.c) ----------------------------------------------------
 * A hash chain: from a terminal seed c[0] (64 hex), c[i] = sha256hex(c[i−1]);
 * games are played c[n−1] first, then c[n−2], … c[0] last, so each game's hash
 * is the SHA-256 of the NEXT game's hash hex. The operator publishes
 * sha256hex(c[n−1]) (the chain's commitment) before the first game.
 * h = first 8 hex digits of HMAC_SHA256(key = game hash hex, msg = salt) as an
 * integer (the first 4 bytes, big-endian);
 * point = floor(max(1, 2³² / (h + 1) · rtp) · 100) / 100, computed exactly as
 * max(100, floor(2³² · rtp_bp / (100 · (h + 1)))) hundredths. A player who
 * cashes out at target t (hundredths, ≥ 101) wins t when point ≥ t. */
#define PB_CRASH_TARGET_MIN 101
/* 1,000,000.00x: the largest auto target, and the most any cash-out pays */
#define PB_CRASH_TARGET_MAX 100000000

typedef struct pb_crash_params {
    uint32_t cashout; /* hundredths: the auto cash-out target (sim and one-shot play) */
} pb_crash_params;

/* Whether a cash-out target may be played: crash's case of pb_game_params_playable
 * (inline: a simulation's every round asks it). */
static inline bool pb_crash_cashout_playable(uint32_t cashout)
{
    return cashout >= PB_CRASH_TARGET_MIN && cashout <= PB_CRASH_TARGET_MAX;
}

/* The crash point in hundredths (≥ 100) of a game hash (64 hex) and salt. */
uint64_t pb_crash_point(const char *game_hash, const char *salt, uint32_t rtp_bp);
/* The same from h (the first 4 HMAC bytes as an integer): inline, as a
 * simulation computes it for every round. */
static inline uint64_t pb_crash_point_h(uint32_t h, uint32_t rtp_bp)
{
    uint64_t r = ((uint64_t)1 << 32) * rtp_bp / (100 * ((uint64_t)h + 1));
    return r < 100 ? 100 : r;
}
/* Fills chain[0..n−1] (each 65 bytes, NUL-terminated) from terminal_seed
 * (64 hex): chain[0] = terminal_seed, chain[i] = sha256hex(chain[i−1]).
 * Play chain[n−1] first. */
void pb_crash_chain_generate(const char *terminal_seed, size_t n,
                             char (*chain)[PB_FAIR_HASH_HEX_LEN + 1]);
/* True when hashing `hash` 1..max_steps times reaches `earlier` (the hash of a
 * game played before it, or the chain's commitment); *steps (if not NULL)
 * receives the count. */
bool pb_crash_chain_links(const char *hash, const char *earlier, uint64_t max_steps,
                          uint64_t *steps);

/* ---- mines (mines.c) ----------------------------------------------------
 * 25 tiles 0..24, 1..24 mines. Mine i is tile index floor(f · (25 − i)) of the
 * tiles still free, kept in ascending order (one float per mine, one nonce
 * per game). After k safe reveals the multiplier is
 * floor(rtp_bp · C(25, k) / C(25 − m, k)) (= RTP × C(25,k)/C(25−m,k) in
 * 1/10000 units); k = 0 gives rtp_bp (< 1x): the money side should refuse a
 * cash-out before the first reveal. */
#define PB_MINES_TILES 25
#define PB_MINES_MIN 1
#define PB_MINES_MAX 24

/* Mine positions in draw order into out[0..mines−1]. mines in 1..24 (asserted). */
void pb_mines_positions(pb_fair_stream *s, unsigned mines, uint8_t out[PB_MINES_MAX]);
/* The multiplier after `safe` safe reveals with `mines` mines at rtp_bp; 0 when
 * mines ∉ 1..24 or safe > 25 − mines. */
int64_t pb_mines_multiplier(unsigned mines, unsigned safe, uint32_t rtp_bp);

typedef struct pb_mines_params {
    uint8_t mines;                 /* 1..24 */
    uint8_t picks;                 /* tiles the player reveals (one-shot play): 1..25 − mines */
    uint8_t tiles[PB_MINES_TILES]; /* the tiles, in reveal order, distinct, 0..24 */
} pb_mines_params;

/* ---- keno (keno.c) ------------------------------------------------------
 * 10 numbers drawn from 1..40: draw i takes index floor(f · (40 − i)) of the
 * numbers not drawn yet, kept in ascending order. The player picks 1..10
 * distinct numbers; hits = picks ∩ drawn. Paytables per risk level are
 * pitboss's own (keno.c), scaled to the configured RTP; the exact RTP is from
 * the hypergeometric distribution C(p,h)·C(40−p,10−h)/C(40,10). */
#define PB_KENO_NUMBERS 40
#define PB_KENO_DRAWN 10
#define PB_KENO_PICKS_MAX 10

typedef enum pb_game_risk {
    PB_RISK_LOW = 0,
    PB_RISK_MEDIUM,
    PB_RISK_HIGH,
    PB_RISK_COUNT_
} pb_game_risk;

/* "low"/"medium"/"high" → risk, or -1. */
int pb_game_risk_parse(const char *s);
/* risk → "low"/"medium"/"high" (NULL if out of range). */
const char *pb_game_risk_name(int risk);

typedef struct pb_keno_params {
    uint8_t risk;                     /* pb_game_risk */
    uint8_t count;                    /* 1..10 */
    uint8_t picks[PB_KENO_PICKS_MAX]; /* distinct, 1..40 */
} pb_keno_params;

/* The 10 drawn numbers in draw order. */
void pb_keno_draw(pb_fair_stream *s, uint8_t out[PB_KENO_DRAWN]);
/* The multiplier for `hits` hits with `count` picks at risk and rtp_bp (the
 * scaled, floored table entry); 0 for invalid arguments. */
int64_t pb_keno_multiplier(int risk, unsigned count, unsigned hits, uint32_t rtp_bp);

/* ---- plinko (plinko.c) --------------------------------------------------
 * 8..16 rows; row i goes right (1) when floor(f · 2) = 1; the bucket
 * 0..rows is the number of rights. Multiplier tables per (rows, risk) are
 * pitboss's own (plinko.c), symmetric, scaled to the configured RTP; exact RTP
 * = Σ C(rows, k) / 2^rows · multiplier(k). */
#define PB_PLINKO_ROWS_MIN 8
#define PB_PLINKO_ROWS_MAX 16

typedef struct pb_plinko_params {
    uint8_t rows; /* 8..16 */
    uint8_t risk; /* pb_game_risk */
} pb_plinko_params;

/* The bucket (0..rows) from `rows` floats; *path (if not NULL) receives bit i
 * = direction of row i. rows must be valid (asserted). */
unsigned pb_plinko_drop(pb_fair_stream *s, unsigned rows, uint32_t *path);
/* The multiplier of bucket at (rows, risk, rtp_bp); 0 for invalid arguments. */
int64_t pb_plinko_multiplier(unsigned rows, int risk, unsigned bucket, uint32_t rtp_bp);

/* ---- roulette (roulette.c) ----------------------------------------------
 * European wheel, pockets 0..36, pocket = floor(f · 37). Every standard bet,
 * several per spin, each with its own stake in minor units. A winning bet
 * returns stake × (pays + 1): straight 35, split 17, street 11, trio 11
 * (0-1-2 or 0-2-3), corner 8, first four 8 (0-1-2-3), six line 5,
 * dozen 2, column 2, red/black 1, odd/even 1, low/high 1 — each with an
 * exact RTP of 36/37. Zero loses every outside bet. */
#define PB_ROULETTE_POCKETS 37
#define PB_ROULETTE_BETS_MAX 64

typedef enum pb_roulette_bet_type {
    PB_RBET_STRAIGHT = 0, /* 1 number 0..36 */
    PB_RBET_SPLIT,        /* 2 adjacent numbers (incl. 0-1, 0-2, 0-3) */
    PB_RBET_STREET,       /* 3 numbers of a row: n, n+1, n+2 with n = 1, 4, …, 34 */
    PB_RBET_TRIO,         /* 0-1-2 or 0-2-3 */
    PB_RBET_CORNER,       /* 4 numbers of a square */
    PB_RBET_FIRST_FOUR,   /* 0-1-2-3 */
    PB_RBET_SIX_LINE,     /* two adjacent streets */
    PB_RBET_DOZEN,        /* 1st/2nd/3rd: 1-12, 13-24, 25-36 */
    PB_RBET_COLUMN,       /* 1st/2nd/3rd: n ≡ 1, 2, 0 (mod 3) */
    PB_RBET_RED,
    PB_RBET_BLACK,
    PB_RBET_ODD,
    PB_RBET_EVEN,
    PB_RBET_LOW,  /* 1-18 */
    PB_RBET_HIGH, /* 19-36 */
    PB_RBET_COUNT_
} pb_roulette_bet_type;

typedef struct pb_roulette_bet {
    uint8_t type;  /* pb_roulette_bet_type */
    uint8_t count; /* numbers covered */
    uint8_t numbers[18];
    uint64_t mask;  /* bit n set when pocket n wins (derived by pb_roulette_bet_make) */
    int64_t amount; /* stake in minor units, > 0 */
} pb_roulette_bet;

typedef struct pb_roulette_params {
    size_t count; /* 1..PB_ROULETTE_BETS_MAX */
    pb_roulette_bet bets[PB_ROULETTE_BETS_MAX];
} pb_roulette_params;

/* The wire name of a bet type ("straight", "split", "street", "trio", "corner",
 * "first_four", "six_line", "dozen", "column", "red", "black", "odd", "even",
 * "low", "high"), or NULL. */
const char *pb_roulette_bet_name(int type);
/* The bet type for a wire name, or -1. */
int pb_roulette_bet_parse(const char *name);
/* Builds and validates a bet. Inside bets (straight .. six_line) name their
 * numbers (any order); dozen and column take one number 1..3 (which one);
 * outside even-money bets take none (n = 0). Returns 0, or -1 when the numbers
 * do not form that bet on the European layout. */
int pb_roulette_bet_make(int type, const uint8_t *numbers, size_t n, int64_t amount,
                         pb_roulette_bet *out);
/* The pocket 0..36 from one float. */
unsigned pb_roulette_spin(pb_fair_stream *s);
/* True for the red pockets (1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25,
 * 27, 30, 32, 34, 36). */
bool pb_roulette_is_red(unsigned pocket);
/* What the bet pays on a win, x:1 (35 for a straight, …). */
unsigned pb_roulette_pays(int type);

/* ---- slot (slot.c) ------------------------------------------------------
 * "Pit Stop": 5 reels × 3 rows, fixed reel strips, PB_SLOT_LINES paylines of
 * bet/PB_SLOT_LINES each (the multiplier is for the whole bet), left-to-right
 * line pays of 3, 4, 5 of a kind, a wild that substitutes for every paying
 * symbol, a scatter that pays anywhere and awards free spins on 3+ (played at
 * once with the same stream, on the same strips, wins ×PB_SLOT_FREE_MULT, no
 * retrigger). A spin consumes one float per reel: stop = floor(f · strip
 * length); row r of reel i shows strip[(stop + r) mod length]. The exact RTP
 * enumerates the strips (pb_slot_rtp_enumerate walks every stop combination;
 * pb_game_rtp computes the same sum factorised per reel). */
#define PB_SLOT_REELS 5
#define PB_SLOT_ROWS 3
#define PB_SLOT_LINES 20
#define PB_SLOT_FREE_MAX 15 /* free spins awarded by 5 scatters (3: 8, 4: 10) */
#define PB_SLOT_FREE_MULT 3

/* One spin: stops, the visible grid (symbol ids), its win in multiplier units
 * of the whole bet (before the free-spin multiplier) and the scatters seen. */
typedef struct pb_slot_spin {
    uint8_t stops[PB_SLOT_REELS];
    uint8_t grid[PB_SLOT_ROWS][PB_SLOT_REELS];
    uint32_t line_mask; /* bit l: payline l won */
    int64_t win;        /* line wins + scatter win, multiplier units of the bet */
    uint8_t scatters;
} pb_slot_spin;

/* One spin from 5 floats of the stream at rtp_bp. */
void pb_slot_spin_play(pb_fair_stream *s, uint32_t rtp_bp, pb_slot_spin *out);
/* The symbol names (index = symbol id) and count, for rendering. */
const char *pb_slot_symbol_name(unsigned symbol);
/* Free spins awarded for n scatters (0 below 3). */
unsigned pb_slot_free_spins(unsigned scatters);
/* The exact RTP at rtp_bp by walking every one of the Π(strip lengths) stop
 * combinations, spin by spin (slow: for tests and `bench fair`; pb_game_rtp
 * computes the same fraction factorised per reel, fast). Returns PB_OK, or
 * PB_ERR_FIELD_INVALID for an RTP outside the slot's range. */
pb_err pb_slot_rtp_enumerate(uint32_t rtp_bp, pb_rtp *out);

/* ======================================================================== */
/* Generic dispatch: the money side, verify and sim use these               */
/* ======================================================================== */

typedef struct pb_game_params {
    pb_game_kind kind;
    union {
        pb_dice_params dice;
        pb_limbo_params limbo;
        pb_crash_params crash;
        pb_mines_params mines;
        pb_keno_params keno;
        pb_plinko_params plinko;
        pb_roulette_params roulette;
    } u; /* slot: no parameters */
} pb_game_params;

/* The free spins of one slot bet are part of its outcome. */
#define PB_SLOT_SPINS_MAX (1 + PB_SLOT_FREE_MAX)

/* One round's outcome. multiplier is the whole round's, in 1/10000 of the bet
 * (0 on a loss); for roulette it is the total return / total stake (floored)
 * and only informative: the payout uses each bet's exact return. */
typedef struct pb_game_outcome {
    pb_game_kind kind;
    uint32_t rtp_bp; /* the configured RTP the outcome was computed with */
    int64_t multiplier;
    bool win; /* multiplier > 0 */
    union {
        struct {
            uint32_t roll;
        } dice; /* hundredths */
        struct {
            uint64_t result;
        } limbo; /* hundredths */
        struct {
            uint64_t point;
        } crash; /* hundredths */
        struct {
            uint8_t positions[PB_MINES_MAX]; /* draw order */
            uint8_t count;                   /* = mines */
            uint8_t safe;                    /* safe reveals before a mine or the end */
            bool hit;                        /* a pick hit a mine */
        } mines;
        struct {
            uint8_t drawn[PB_KENO_DRAWN]; /* draw order */
            uint8_t hits;
        } keno;
        struct {
            uint8_t bucket;
            uint32_t path; /* bit i: row i went right */
        } plinko;
        struct {
            uint8_t pocket;
        } roulette;
        struct {
            pb_slot_spin spins[PB_SLOT_SPINS_MAX]; /* [0] the paid spin, then free spins */
            uint8_t nspins;
        } slot;
    } u;
} pb_game_outcome;

/* Why parameters were refused: a code from error.h (FIELD_INVALID,
 * FIELD_MISSING, UNKNOWN_FIELD, INVALID_REQUEST), the field (a JSON path such
 * as "target" or "bets[2].numbers") and a short human message. */
typedef struct pb_game_error {
    pb_err code;
    char field[48];
    char message[128];
} pb_game_error;

/*
 * Parses a game's parameters from a JSON object (NULL means {}), strictly:
 * unknown fields, wrong types and out-of-range values are refused with the
 * field named. Fields per game:
 *   dice     {"target": 50.5 (number, ≤ 2 decimals) , "direction": "over"|"under"}
 *   limbo    {"target": 2.0}                 crash {"cashout": 2.0} (optional for play)
 *   mines    {"mines": 3, "tiles": [0, 7, …]} tiles optional (the money side
 *            reveals one by one; verify needs none)
 *   keno     {"risk": "low"|"medium"|"high", "picks": [1..40, …]} (picks
 *            optional when only drawing, e.g. verify)
 *   plinko   {"rows": 8..16, "risk": "low"|"medium"|"high"}
 *   roulette {"bets": [{"type": "split", "numbers": [0, 1], "amount": "1.00"}, …]}
 *            amounts are decimal strings in cur (required only when bets are
 *            given; verify needs none)
 *   slot     {}
 * Multiplier-valued fields (target, cashout) are numbers or decimal strings
 * with at most 2 decimals. Returns PB_OK and fills *out, or the refusal in *err.
 */
pb_err pb_game_params_from_json(pb_game_kind kind, const json_t *params, const pb_currency *cur,
                                pb_game_params *out, pb_game_error *err);

/* The parameters as JSON (the same shape from_json reads; roulette amounts are
 * formatted in cur, or as integer minor units when cur is NULL). New reference. */
json_t *pb_game_params_to_json(const pb_game_params *p, const pb_currency *cur);

/* True when the params are complete for a one-shot pb_game_play that pays
 * (dice, limbo, plinko, slot always; crash needs cashout; mines tiles; keno
 * picks; roulette bets). */
bool pb_game_params_playable(const pb_game_params *p);

/*
 * Plays one round: outcome and multiplier from the inputs (seed pair and nonce,
 * or crash hash and salt) at the configured rtp_bp, which must be allowed for
 * the game. Pure and deterministic. With incomplete params (see
 * pb_game_params_playable) it still computes the outcome (what verify prints)
 * and sets multiplier 0. Returns PB_OK, or PB_ERR_FIELD_INVALID for an RTP
 * outside the game's range, missing inputs or invalid params.
 */
pb_err pb_game_play(const pb_game_params *p, const pb_game_input *in, uint32_t rtp_bp,
                    pb_game_outcome *out);

/* pb_game_play from a stream the caller initialised (pb_fair_stream_init,
 * optionally pb_fair_stream_prime) at the round's (key, client seed, nonce):
 * the same outcome, for batch callers. Not for crash (PB_ERR_FIELD_INVALID). */
pb_err pb_game_play_stream(const pb_game_params *p, pb_fair_stream *s, uint32_t rtp_bp,
                           pb_game_outcome *out);

/* The HMAC rounds (32 bytes, 8 floats each) one round of p reads, for
 * pb_fair_stream_prime: dice, limbo, roulette, slot (its paid spin; free spins
 * read on) 1; keno 2; plinko ceil(rows / 8); mines ceil(mines / 8). Between 1
 * and PB_FAIR_STREAM_BLOCKS (1 for crash and invalid params). */
unsigned pb_game_blocks(const pb_game_params *p);

/* The total stake a round of p needs: roulette's sum of bet amounts (-1 on
 * overflow); 0 for every other game (its stake is the amount the player
 * chose). */
int64_t pb_game_stake_total(const pb_game_params *p);

/*
 * The payout of a settled outcome for stake `bet` (minor units, ≥ 0):
 * floor(bet × multiplier / 10000); roulette: Σ amount × (pays + 1) over its
 * winning bets (bet must equal pb_game_stake_total). Returns PB_OK,
 * PB_ERR_OVERFLOW when it does not fit in int64, or PB_ERR_FIELD_INVALID for a
 * roulette bet that differs from the stake total or a negative bet.
 */
pb_err pb_game_payout(const pb_game_params *p, const pb_game_outcome *o, int64_t bet,
                      int64_t *payout);

/*
 * The outcome as JSON, the form `pitboss fair verify` prints and a round
 * records: {"game":"dice","result":28.07, …}. "result" is the figure
 * (dice roll, limbo result, mines/keno positions in draw order, roulette
 * pocket), crash has "point", plinko "bucket" and "multiplier". Extra fields:
 * "multiplier" (when params were playable), "win", and per game details
 * (hits, safe reveals, slot spins). Figures and multipliers are JSON reals:
 * dump them with pb_game_json_dumps (or JSON_REAL_PRECISION(15)) so they print
 * as written (8.3, 28.07, 1.9800 → 1.98); jansson's default 17 digits print
 * 8.3000000000000007. New reference.
 */
json_t *pb_game_outcome_json(const pb_game_params *p, const pb_game_outcome *o);

/* json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)): every figure of an
 * outcome as its decimal (15 significant digits hold every value the games
 * produce exactly). The caller free()s the string; NULL on allocation failure. */
char *pb_game_json_dumps(const json_t *j);

/* ---- RTP (rtp.c) -------------------------------------------------------- */

/*
 * The exact theoretical RTP of one round of p at the configured rtp_bp (for
 * strategies: dice/limbo/crash at their target, mines revealing `picks` tiles
 * then cashing out, keno with `count` picks, roulette over all its bets
 * weighted by stake). Needs playable params (except plinko/slot which always
 * are). Returns PB_OK or PB_ERR_FIELD_INVALID.
 */
pb_err pb_game_rtp(const pb_game_params *p, uint32_t rtp_bp, pb_rtp *out);

/* The largest multiplier a round of p can pay at rtp_bp (the cap a brand's max
 * payout is checked against), in 1/10000 units; 0 for invalid params. */
int64_t pb_game_max_multiplier(const pb_game_params *p, uint32_t rtp_bp);

/* The Monte Carlo simulation of the games (rtp.c) is declared in games/sim.h. */

#endif
