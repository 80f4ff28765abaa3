/*
 * slot.c — "Pit Stop", a 5-reel, 3-row video slot with 20 paylines, a wild,
 * and scatter-triggered free spins; its RTP computed exactly.
 *
 * A spin takes one float per reel: stop = floor(f · length); row r of reel i
 * shows strip[i][(stop + r) mod length]. Lines pay left to right, 3..5 of a
 * kind, the wild standing for any paying symbol (a line pays the better of its
 * leading wilds alone and the symbol they complete). Scatters pay anywhere
 * (× the whole bet) and 3/4/5 of them award 8/10/15 free spins, played at once
 * from the same stream on the same strips with every win ×3, no retrigger.
 * Pays are pitboss's own base table (line pays in line bets, bet / 20 each;
 * scatter pays in bets), scaled to the configured RTP and floored to the
 * multiplier unit (1/10000 of the bet).
 *
 * Exact RTP. With W the mean win of one spin and E the mean number of free
 * spins a paid spin awards, RTP = W · (1 + 3E) (the free spins' outcomes are
 * independent of how many there are). Over all P = Π lengths stop
 * combinations: W = Σ wins / P and E = Σ awards / P. pb_slot_rtp_enumerate
 * sums them spin by spin over every combination; pb_slot_rtp gets the same
 * integers factorised — for one payline the stop combinations showing a
 * symbol tuple number Π count_i(symbol_i) whatever the line's rows, so the 20
 * lines contribute 20 × Σ_tuples Π count_i · pay, and the scatter count is a
 * product of per-reel Bernoulli counts. The unit test checks both agree.
 */
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "games/rules.h"

enum { WILD, SEVEN, BAR, BELL, CHERRY, ACE, KING, QUEEN, JACK, SCATTER, NSYM };
#define STRIP_LEN 20
#define PAYING (SCATTER) /* symbols 0..8 pay on lines */

static const char *const symbol_names[NSYM] = {"wild", "seven", "bar",   "bell", "cherry",
                                               "ace",  "king",  "queen", "jack", "scatter"};

static const uint8_t strips[PB_SLOT_REELS][STRIP_LEN] = {
    {JACK, QUEEN,   SEVEN, KING, ACE, BELL,  JACK,   WILD, QUEEN, CHERRY,
     KING, SCATTER, JACK,  BAR,  ACE, QUEEN, CHERRY, KING, BELL,  JACK},
    {QUEEN, KING, BAR,     JACK,  ACE,  WILD, QUEEN, CHERRY, JACK, SEVEN,
     KING,  ACE,  SCATTER, QUEEN, BELL, JACK, KING,  CHERRY, ACE,  BELL},
    {KING, JACK,    BELL,  ACE, QUEEN, SEVEN, WILD, JACK,  CHERRY, KING,
     ACE,  SCATTER, QUEEN, BAR, JACK,  KING,  WILD, QUEEN, CHERRY, ACE},
    {ACE,  QUEEN,   CHERRY, JACK,  KING,  BAR, QUEEN,  WILD, ACE,  BELL,
     JACK, SCATTER, KING,   SEVEN, QUEEN, ACE, CHERRY, JACK, BELL, KING},
    {JACK,  KING, BELL, QUEEN, ACE,  CHERRY, JACK, SEVEN, KING,   SCATTER,
     QUEEN, BAR,  ACE,  WILD,  JACK, BELL,   KING, QUEEN, CHERRY, ACE},
};

/* Row of each reel per payline. */
static const uint8_t paylines[PB_SLOT_LINES][PB_SLOT_REELS] = {
    {1, 1, 1, 1, 1}, {0, 0, 0, 0, 0}, {2, 2, 2, 2, 2}, {0, 1, 2, 1, 0}, {2, 1, 0, 1, 2},
    {0, 0, 1, 2, 2}, {2, 2, 1, 0, 0}, {1, 0, 0, 0, 1}, {1, 2, 2, 2, 1}, {0, 1, 1, 1, 0},
    {2, 1, 1, 1, 2}, {1, 0, 1, 2, 1}, {1, 2, 1, 0, 1}, {0, 1, 0, 1, 0}, {2, 1, 2, 1, 2},
    {1, 1, 0, 1, 1}, {1, 1, 2, 1, 1}, {0, 0, 2, 0, 0}, {2, 2, 0, 2, 2}, {0, 2, 0, 2, 0},
};

/* Base pays, hundredths: line pays for 3, 4, 5 of a kind in line bets;
 * scatter pays for 3, 4, 5 anywhere in bets. */
static const uint32_t base_line[PAYING][3] = {
    [WILD] = {5000, 25000, 100000}, [SEVEN] = {2500, 10000, 50000}, [BAR] = {1500, 6000, 25000},
    [BELL] = {1000, 4000, 15000},   [CHERRY] = {800, 2500, 10000},  [ACE] = {500, 1500, 6000},
    [KING] = {400, 1200, 5000},     [QUEEN] = {300, 1000, 4000},    [JACK] = {200, 800, 3000},
};
static const uint32_t base_scatter[3] = {200, 1000, 5000};
static const uint8_t free_awards[PB_SLOT_REELS + 1] = {0, 0, 0, 8, 10, PB_SLOT_FREE_MAX};

/* A pay table in multiplier units of the whole bet (line: e2 × 100 / 20). */
typedef struct paytable {
    int64_t line[PAYING][3];
    int64_t scatter[3];
} paytable;

const char *pb_slot_symbol_name(unsigned symbol)
{
    return symbol < NSYM ? symbol_names[symbol] : NULL;
}

unsigned pb_slot_free_spins(unsigned scatters)
{
    return scatters <= PB_SLOT_REELS ? free_awards[scatters] : 0;
}

unsigned pb_slot_strip_length(unsigned reel) { return reel < PB_SLOT_REELS ? STRIP_LEN : 0; }

uint64_t pb_slot_combinations(void)
{
    uint64_t p = 1;
    for (unsigned i = 0; i < PB_SLOT_REELS; i++)
        p *= STRIP_LEN;
    return p;
}

/* Stops of reel i whose window shows a scatter. */
static uint64_t scatter_stops(unsigned reel)
{
    uint64_t n = 0;
    for (unsigned s = 0; s < STRIP_LEN; s++)
        for (unsigned r = 0; r < PB_SLOT_ROWS; r++)
            if (strips[reel][(s + r) % STRIP_LEN] == SCATTER) {
                n++;
                break;
            }
    return n;
}

uint64_t pb_slot_scatter_combinations(unsigned c)
{
    /* Π (L − a + a·x): coefficient of x^c */
    uint64_t poly[PB_SLOT_REELS + 1] = {1};
    for (unsigned i = 0; i < PB_SLOT_REELS; i++) {
        uint64_t a = scatter_stops(i), b = STRIP_LEN - a;
        for (int k = PB_SLOT_REELS; k >= 0; k--)
            poly[k] = poly[k] * b + (k ? poly[k - 1] * a : 0);
    }
    return c <= PB_SLOT_REELS ? poly[c] : 0;
}

/* The win of one line of symbols s[0..4] under table t. */
static int64_t line_win(const paytable *t, const uint8_t s[PB_SLOT_REELS])
{
    unsigned w = 0;
    while (w < PB_SLOT_REELS && s[w] == WILD)
        w++;
    int64_t best = w >= 3 ? t->line[WILD][w - 3] : 0;
    if (w < PB_SLOT_REELS && s[w] != SCATTER) {
        uint8_t x = s[w];
        unsigned n = w + 1;
        while (n < PB_SLOT_REELS && (s[n] == x || s[n] == WILD))
            n++;
        if (n >= 3 && t->line[x][n - 3] > best)
            best = t->line[x][n - 3];
    }
    return best;
}

/* What each reel stop shows, computed once (base_init): the window's three
 * symbols placed where they go in the spin's grid (bytes r·5 + reel of 16,
 * zero elsewhere: a spin's grid is the OR of its five reels'), how many of
 * them are scatters, and per paying symbol x the set of paylines (bit l)
 * whose cell on this reel counts as x on a line (reach) — the wild itself
 * for x = wild, x or the wild otherwise.
 *
 * A line can pay only when its first three cells count as one symbol x:
 * three leading wilds, or a run of three of x with x the first non-wild
 * cell (line_win finds nothing else). For every combination of the first
 * three stops (20³) a table holds those lines: for at most two symbols x
 * (seven .. jack) the set M_x of lines whose first three cells are x or
 * wild, not all wild — such a line pays x's pay for 3, 4 or 5 as its cells
 * on reels 3 and 4 count as x too (M_x & reach, counted), which is
 * line_win's answer. The other combinations (a line of three wilds, or
 * three symbols at once: 5% of them) are flagged and go through line_win
 * line by line, over the lines that can pay (lines_maybe). The same wins
 * and line mask as line_win over all 20 lines, without branching per line
 * in the usual case (tested: the exact RTP walk over every combination). */
#define COMBO_FLAG 0x80000000u /* evaluate line by line */
#define COMBO_MORE 0x01000000u /* a second entry, in combos2 */
#define COMBO_MASK 0xfffffu    /* an entry: M_x in bits 0..19, x in 20..23 */
static uint8_t window_grid[PB_SLOT_REELS][STRIP_LEN][16] __attribute__((aligned(16)));
static uint8_t window_scatters[PB_SLOT_REELS][STRIP_LEN];
static uint32_t reach[PB_SLOT_REELS][STRIP_LEN][PAYING];
static uint32_t lines_maybe[STRIP_LEN][STRIP_LEN][STRIP_LEN];
/* the first entry (| COMBO_MORE), or COMBO_FLAG; the second entry apart, so
 * that the table read by every spin is 32 KB */
static uint32_t combos[STRIP_LEN][STRIP_LEN][STRIP_LEN];
static uint32_t combos2[STRIP_LEN][STRIP_LEN][STRIP_LEN];

/* The table entries of the first three stops (a, b, c) into combos and
 * combos2; reach is filled. */
static void combo_set(unsigned a, unsigned b, unsigned c)
{
    uint32_t wild3 = reach[0][a][WILD] & reach[1][b][WILD] & reach[2][c][WILD];
    uint32_t entry[2] = {0, 0};
    unsigned n = 0;
    for (unsigned x = WILD + 1; x < PAYING; x++) {
        uint32_t m = reach[0][a][x] & reach[1][b][x] & reach[2][c][x] & ~wild3;
        if (!m)
            continue;
        if (n == 2 || wild3) {
            n = 3;
            break;
        }
        entry[n++] = m | (uint32_t)x << 20;
    }
    combos[a][b][c] = n > 2 || wild3 ? COMBO_FLAG : entry[0] | (n == 2 ? COMBO_MORE : 0);
    combos2[a][b][c] = entry[1];
}

static void windows_init(void)
{
    for (unsigned i = 0; i < PB_SLOT_REELS; i++)
        for (unsigned stop = 0; stop < STRIP_LEN; stop++) {
            unsigned scat = 0;
            uint8_t sym[PB_SLOT_ROWS];
            for (unsigned r = 0; r < PB_SLOT_ROWS; r++) {
                sym[r] = strips[i][(stop + r) % STRIP_LEN];
                window_grid[i][stop][r * PB_SLOT_REELS + i] = sym[r];
                scat += sym[r] == SCATTER;
            }
            window_scatters[i][stop] = (uint8_t)scat;
            for (unsigned x = 0; x < PAYING; x++) {
                uint32_t set = 0;
                for (unsigned l = 0; l < PB_SLOT_LINES; l++) {
                    uint8_t y = sym[paylines[l][i]];
                    if (y == x || y == WILD)
                        set |= 1u << l;
                }
                reach[i][stop][x] = set;
            }
        }
    for (unsigned a = 0; a < STRIP_LEN; a++)
        for (unsigned b = 0; b < STRIP_LEN; b++)
            for (unsigned c = 0; c < STRIP_LEN; c++) {
                uint32_t maybe = 0;
                for (unsigned x = 0; x < PAYING; x++)
                    maybe |= reach[0][a][x] & reach[1][b][x] & reach[2][c][x];
                lines_maybe[a][b][c] = maybe;
                combo_set(a, b, c);
            }
}

/* The wins of one table entry (M_x and x) at stops d, e of reels 3 and 4:
 * adds them to *win and the paying lines to *mask. The line counts are
 * __builtin_popcount: one instruction in evaluate_popcnt, libgcc's count in
 * the portable evaluate. */
__attribute__((always_inline)) static inline void entry_wins(const paytable *t, uint32_t entry,
                                                             unsigned d, unsigned e, int64_t *win,
                                                             uint32_t *mask)
{
    unsigned x = (entry >> 20) & 15;
    uint32_t m3 = entry & COMBO_MASK, m4 = m3 & reach[3][d][x], m5 = m4 & reach[4][e][x];
    uint32_t only3 = m3 ^ m4, only4 = m4 ^ m5;
    const int64_t *pay = t->line[x];
    *win += pay[0] * __builtin_popcount(only3) + pay[1] * __builtin_popcount(only4) +
            pay[2] * __builtin_popcount(m5);
    *mask |= (pay[0] ? only3 : 0) | (pay[1] ? only4 : 0) | (pay[2] ? m5 : 0);
}

/* Evaluates a spin at the stops packed in `stops` (reel i's in byte i; kept
 * in a register: a spin's stops written as bytes and read back as a word
 * would stall the store forwarding), windows_init having run. */
__attribute__((always_inline)) static inline void evaluate_body(const paytable *t, uint64_t stops,
                                                                pb_slot_spin *out)
{
    unsigned st[PB_SLOT_REELS];
#pragma GCC unroll 5
    for (unsigned i = 0; i < PB_SLOT_REELS; i++) {
        st[i] = (unsigned)(stops >> (8 * i)) & 0xff;
        out->stops[i] = (uint8_t)st[i];
    }
    uint8_t *grid = &out->grid[0][0];
#if defined(__x86_64__)
#define REEL(i) _mm_load_si128((const __m128i *)window_grid[i][st[i]])
    __m128i g = _mm_or_si128(_mm_or_si128(REEL(0), REEL(1)),
                             _mm_or_si128(_mm_or_si128(REEL(2), REEL(3)), REEL(4)));
#undef REEL
    /* the 15 cells as bytes 0..7 and 7..14: two 8-byte stores, each read back whole */
    _mm_storel_epi64((__m128i *)(void *)grid, g);
    _mm_storel_epi64((__m128i *)(void *)(grid + 7), _mm_srli_si128(g, 7));
#else
    memset(grid, 0, PB_SLOT_ROWS * PB_SLOT_REELS);
    for (unsigned i = 0; i < PB_SLOT_REELS; i++)
        for (unsigned c = 0; c < PB_SLOT_ROWS * PB_SLOT_REELS; c++)
            grid[c] |= window_grid[i][st[i]][c];
#endif
    unsigned scat = window_scatters[0][st[0]] + window_scatters[1][st[1]] +
                    window_scatters[2][st[2]] + window_scatters[3][st[3]] +
                    window_scatters[4][st[4]];
    uint32_t combo = combos[st[0]][st[1]][st[2]];
    int64_t win = 0;
    uint32_t mask = 0;
    if (!(combo & COMBO_FLAG)) {
        entry_wins(t, combo, st[3], st[4], &win, &mask);
        if (combo & COMBO_MORE)
            entry_wins(t, combos2[st[0]][st[1]][st[2]], st[3], st[4], &win, &mask);
    } else {
        uint32_t maybe = lines_maybe[st[0]][st[1]][st[2]];
        while (maybe) {
            unsigned l = (unsigned)__builtin_ctz(maybe);
            maybe &= maybe - 1;
            const uint8_t *row = paylines[l];
            uint8_t s[PB_SLOT_REELS] = {grid[row[0] * PB_SLOT_REELS],
                                        grid[row[1] * PB_SLOT_REELS + 1],
                                        grid[row[2] * PB_SLOT_REELS + 2],
                                        grid[row[3] * PB_SLOT_REELS + 3],
                                        grid[row[4] * PB_SLOT_REELS + 4]};
            int64_t lw = line_win(t, s);
            if (lw) {
                win += lw;
                mask |= 1u << l;
            }
        }
    }
    unsigned paid = scat > 5 ? 5 : scat; /* 3, 4 or 5 scatters pay */
    if (paid >= 3)
        win += t->scatter[paid - 3];
    out->line_mask = mask;
    out->win = win;
    out->scatters = (uint8_t)scat;
}

#if defined(__x86_64__)
/* evaluate_body with the POPCNT instruction (when pb_games_have_bmi2, which
 * includes it). */
__attribute__((target("popcnt"))) static void evaluate_popcnt(const paytable *t, uint64_t stops,
                                                              pb_slot_spin *out)
{
    evaluate_body(t, stops, out);
}
#endif

/* Evaluates a spin: evaluate_body, with POPCNT when the CPU has it. */
static void evaluate(const paytable *t, uint64_t stops, pb_slot_spin *out)
{
#if defined(__x86_64__)
    if (pb_games_have_bmi2()) {
        evaluate_popcnt(t, stops, out);
        return;
    }
#endif
    evaluate_body(t, stops, out);
}

/* The factorised sums of a table: *wins = Σ over all P combinations of a
 * spin's win; *awards = Σ of free spins awarded. */
static void sums(const paytable *t, unsigned __int128 *wins, uint64_t *awards)
{
    uint64_t cnt[PB_SLOT_REELS][NSYM] = {{0}};
    for (unsigned i = 0; i < PB_SLOT_REELS; i++)
        for (unsigned k = 0; k < STRIP_LEN; k++)
            cnt[i][strips[i][k]]++;
    unsigned __int128 line = 0;
    uint8_t s[PB_SLOT_REELS];
    for (unsigned a = 0; a < NSYM; a++)
        for (unsigned b = 0; b < NSYM; b++)
            for (unsigned c = 0; c < NSYM; c++)
                for (unsigned d = 0; d < NSYM; d++)
                    for (unsigned e = 0; e < NSYM; e++) {
                        uint64_t ways = cnt[0][a] * cnt[1][b] * cnt[2][c] * cnt[3][d] * cnt[4][e];
                        if (!ways)
                            continue;
                        s[0] = (uint8_t)a, s[1] = (uint8_t)b, s[2] = (uint8_t)c;
                        s[3] = (uint8_t)d, s[4] = (uint8_t)e;
                        int64_t w = line_win(t, s);
                        if (w)
                            line += (unsigned __int128)ways * (uint64_t)w;
                    }
    unsigned __int128 total = line * PB_SLOT_LINES;
    uint64_t aw = 0;
    for (unsigned c = 3; c <= PB_SLOT_REELS; c++) {
        total += (unsigned __int128)pb_slot_scatter_combinations(c) * (uint64_t)t->scatter[c - 3];
        aw += pb_slot_scatter_combinations(c) * free_awards[c];
    }
    *wins = total;
    *awards = aw;
}

/* RTP = W (1 + 3E) = (wins / P / 10000) · (P + 3 awards) / P. */
static void rtp_of(unsigned __int128 wins, uint64_t awards, unsigned __int128 *num,
                   unsigned __int128 *den)
{
    uint64_t p = pb_slot_combinations();
    *num = wins * (p + (unsigned __int128)PB_SLOT_FREE_MULT * awards);
    *den = (unsigned __int128)p * p * PB_MULT_ONE;
}

static paytable base_table;
static unsigned __int128 base_num, base_den;
static pthread_once_t base_once = PTHREAD_ONCE_INIT;

static void base_init(void)
{
    windows_init();
    for (unsigned s = 0; s < PAYING; s++)
        for (unsigned k = 0; k < 3; k++)
            base_table.line[s][k] = (int64_t)base_line[s][k] * 100 / PB_SLOT_LINES;
    for (unsigned k = 0; k < 3; k++)
        base_table.scatter[k] = (int64_t)base_scatter[k] * 100;
    unsigned __int128 wins;
    uint64_t awards;
    sums(&base_table, &wins, &awards);
    rtp_of(wins, awards, &base_num, &base_den);
}

/* The scaled table at rtp_bp, cached per thread, in multiplier units of the
 * whole bet, floored (a line pay: floor(scaled line-bet pay / 20)). */
static const paytable *table(uint32_t rtp_bp)
{
    static _Thread_local struct {
        uint32_t rtp;
        paytable t;
    } c = {.rtp = 0};
    if (c.rtp != rtp_bp) {
        pthread_once(&base_once, base_init);
        for (unsigned s = 0; s < PAYING; s++)
            for (unsigned k = 0; k < 3; k++)
                c.t.line[s][k] = pb_games_scale(base_line[s][k], rtp_bp, base_num, base_den) /
                                 PB_SLOT_LINES;
        for (unsigned k = 0; k < 3; k++)
            c.t.scatter[k] = pb_games_scale(base_scatter[k], rtp_bp, base_num, base_den);
        c.rtp = rtp_bp;
    }
    return &c.t;
}

void pb_slot_spin_play(pb_fair_stream *s, uint32_t rtp_bp, pb_slot_spin *out)
{
    uint64_t stops = 0;
    const uint8_t *b = pb_fair_stream_take(s, PB_SLOT_REELS); /* primed: the 20 bytes at once */
    if (b) {
        for (unsigned i = 0; i < PB_SLOT_REELS; i++, b += 4)
            stops |= (uint64_t)pb_fair_scale((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                                                 (uint32_t)b[2] << 8 | b[3],
                                             STRIP_LEN)
                     << (8 * i);
    } else {
        for (unsigned i = 0; i < PB_SLOT_REELS; i++)
            stops |= (uint64_t)pb_fair_scale(pb_fair_stream_u32(s), STRIP_LEN) << (8 * i);
    }
    evaluate(table(rtp_bp), stops, out);
}

unsigned pb_slot_play_paid(pb_fair_stream *s, uint32_t rtp_bp, pb_game_outcome *o)
{
    pb_slot_spin_play(s, rtp_bp, &o->u.slot.spins[0]);
    o->u.slot.nspins = 1;
    o->multiplier = o->u.slot.spins[0].win;
    return pb_slot_free_spins(o->u.slot.spins[0].scatters);
}

void pb_slot_play_free(pb_fair_stream *s, uint32_t rtp_bp, unsigned free_spins, pb_game_outcome *o)
{
    int64_t total = o->u.slot.spins[0].win;
    for (unsigned k = 1; k <= free_spins; k++) {
        pb_slot_spin_play(s, rtp_bp, &o->u.slot.spins[k]);
        total += o->u.slot.spins[k].win * PB_SLOT_FREE_MULT;
    }
    o->u.slot.nspins = (uint8_t)(1 + free_spins);
    o->multiplier = total;
}

void pb_slot_play(pb_fair_stream *s, uint32_t rtp_bp, pb_game_outcome *o)
{
    unsigned free_spins = pb_slot_play_paid(s, rtp_bp, o);
    if (free_spins) /* their floats in bulk, not a round at a time */
        pb_fair_stream_reserve(s, free_spins * PB_SLOT_REELS);
    pb_slot_play_free(s, rtp_bp, free_spins, o);
}

pb_err pb_slot_rtp(uint32_t rtp_bp, pb_rtp *out)
{
    if (!pb_game_rtp_allowed(PB_GAME_SLOT, rtp_bp))
        return PB_ERR_FIELD_INVALID;
    unsigned __int128 wins, num, den;
    uint64_t awards;
    sums(table(rtp_bp), &wins, &awards);
    rtp_of(wins, awards, &num, &den);
    pb_games_rtp_set(out, num, den);
    return PB_OK;
}

pb_err pb_slot_rtp_enumerate(uint32_t rtp_bp, pb_rtp *out)
{
    if (!pb_game_rtp_allowed(PB_GAME_SLOT, rtp_bp))
        return PB_ERR_FIELD_INVALID;
    const paytable *t = table(rtp_bp);
    unsigned __int128 wins = 0;
    uint64_t awards = 0;
    uint8_t st[PB_SLOT_REELS];
    pb_slot_spin spin;
    for (st[0] = 0; st[0] < STRIP_LEN; st[0]++)
        for (st[1] = 0; st[1] < STRIP_LEN; st[1]++)
            for (st[2] = 0; st[2] < STRIP_LEN; st[2]++)
                for (st[3] = 0; st[3] < STRIP_LEN; st[3]++)
                    for (st[4] = 0; st[4] < STRIP_LEN; st[4]++) {
                        uint64_t packed = 0;
                        for (unsigned i = 0; i < PB_SLOT_REELS; i++)
                            packed |= (uint64_t)st[i] << (8 * i);
                        evaluate(t, packed, &spin);
                        wins += (uint64_t)spin.win;
                        awards += pb_slot_free_spins(spin.scatters);
                    }
    unsigned __int128 num, den;
    rtp_of(wins, awards, &num, &den);
    pb_games_rtp_set(out, num, den);
    return PB_OK;
}

int64_t pb_slot_max_multiplier(uint32_t rtp_bp)
{
    const paytable *t = table(rtp_bp);
    int64_t line = 0;
    for (unsigned s = 0; s < PAYING; s++)
        line = t->line[s][2] > line ? t->line[s][2] : line;
    int64_t spin = line * PB_SLOT_LINES + t->scatter[2];
    return spin * (1 + PB_SLOT_FREE_MULT * PB_SLOT_FREE_MAX);
}
