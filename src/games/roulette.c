/*
 * roulette.c — European roulette: pocket = floor(f · 37), every standard bet
 * validated against the real layout (numbers 1..36 in 12 rows of 3, row r
 * holding 3r+1, 3r+2, 3r+3; 0 above the first row). A bet is reduced to the
 * set of pockets it covers (a 37-bit mask) and what it pays; every bet
 * returns (pays + 1) · covered / 37 = 36/37 of its stake on average.
 */
#include <string.h>

#include "games/rules.h"

static const char *const bet_names[PB_RBET_COUNT_] = {
    [PB_RBET_STRAIGHT] = "straight", [PB_RBET_SPLIT] = "split",
    [PB_RBET_STREET] = "street",     [PB_RBET_TRIO] = "trio",
    [PB_RBET_CORNER] = "corner",     [PB_RBET_FIRST_FOUR] = "first_four",
    [PB_RBET_SIX_LINE] = "six_line", [PB_RBET_DOZEN] = "dozen",
    [PB_RBET_COLUMN] = "column",     [PB_RBET_RED] = "red",
    [PB_RBET_BLACK] = "black",       [PB_RBET_ODD] = "odd",
    [PB_RBET_EVEN] = "even",         [PB_RBET_LOW] = "low",
    [PB_RBET_HIGH] = "high",
};

static const uint8_t bet_pays[PB_RBET_COUNT_] = {
    [PB_RBET_STRAIGHT] = 35, [PB_RBET_SPLIT] = 17,     [PB_RBET_STREET] = 11,  [PB_RBET_TRIO] = 11,
    [PB_RBET_CORNER] = 8,    [PB_RBET_FIRST_FOUR] = 8, [PB_RBET_SIX_LINE] = 5, [PB_RBET_DOZEN] = 2,
    [PB_RBET_COLUMN] = 2,    [PB_RBET_RED] = 1,        [PB_RBET_BLACK] = 1,    [PB_RBET_ODD] = 1,
    [PB_RBET_EVEN] = 1,      [PB_RBET_LOW] = 1,        [PB_RBET_HIGH] = 1,
};

#define RED_MASK                                                                               \
    ((1ull << 1) | (1ull << 3) | (1ull << 5) | (1ull << 7) | (1ull << 9) | (1ull << 12) |      \
     (1ull << 14) | (1ull << 16) | (1ull << 18) | (1ull << 19) | (1ull << 21) | (1ull << 23) | \
     (1ull << 25) | (1ull << 27) | (1ull << 30) | (1ull << 32) | (1ull << 34) | (1ull << 36))
#define NUMBERS_MASK (((1ull << 37) - 1) & ~1ull) /* 1..36 */

const char *pb_roulette_bet_name(int type)
{
    return type >= 0 && type < PB_RBET_COUNT_ ? bet_names[type] : NULL;
}

int pb_roulette_bet_parse(const char *name)
{
    for (int i = 0; name && i < PB_RBET_COUNT_; i++)
        if (strcmp(name, bet_names[i]) == 0)
            return i;
    return -1;
}

unsigned pb_roulette_pays(int type)
{
    return type >= 0 && type < PB_RBET_COUNT_ ? bet_pays[type] : 0;
}

bool pb_roulette_is_red(unsigned pocket)
{
    return pocket < PB_ROULETTE_POCKETS && (RED_MASK >> pocket & 1);
}

unsigned pb_roulette_spin(pb_fair_stream *s)
{
    return pb_fair_scale(pb_fair_stream_u32(s), PB_ROULETTE_POCKETS);
}

static uint64_t bit(unsigned n) { return (uint64_t)1 << n; }

/* The mask of the numbers 1..36 an outside bet covers (arg: dozen or column 1..3). */
static uint64_t numbers_where(int kind, unsigned arg)
{
    uint64_t m = 0;
    for (unsigned n = 1; n <= 36; n++) {
        bool in = false;
        switch (kind) {
        case PB_RBET_DOZEN: in = (n - 1) / 12 + 1 == arg; break;
        case PB_RBET_COLUMN: in = (n - 1) % 3 + 1 == arg; break;
        case PB_RBET_ODD: in = n % 2 == 1; break;
        case PB_RBET_EVEN: in = n % 2 == 0; break;
        case PB_RBET_LOW: in = n <= 18; break;
        case PB_RBET_HIGH: in = n >= 19; break;
        default: break;
        }
        if (in)
            m |= bit(n);
    }
    return m;
}

/* True when the pockets in `want` are one of the ways the layout allows an
 * inside bet of `type`. */
static bool inside_valid(int type, uint64_t want)
{
    switch (type) {
    case PB_RBET_STRAIGHT: return __builtin_popcountll(want) == 1;
    case PB_RBET_SPLIT:
        if (want == (bit(0) | bit(1)) || want == (bit(0) | bit(2)) || want == (bit(0) | bit(3)))
            return true;
        for (unsigned n = 1; n <= 36; n++) {
            if ((n - 1) % 3 != 2 && want == (bit(n) | bit(n + 1))) /* side by side in a row */
                return true;
            if (n <= 33 && want == (bit(n) | bit(n + 3))) /* one above the other */
                return true;
        }
        return false;
    case PB_RBET_STREET:
        for (unsigned n = 1; n <= 34; n += 3)
            if (want == (bit(n) | bit(n + 1) | bit(n + 2)))
                return true;
        return false;
    case PB_RBET_TRIO:
        return want == (bit(0) | bit(1) | bit(2)) || want == (bit(0) | bit(2) | bit(3));
    case PB_RBET_CORNER:
        for (unsigned n = 1; n <= 32; n++)
            if ((n - 1) % 3 != 2 && want == (bit(n) | bit(n + 1) | bit(n + 3) | bit(n + 4)))
                return true;
        return false;
    case PB_RBET_FIRST_FOUR: return want == (bit(0) | bit(1) | bit(2) | bit(3));
    case PB_RBET_SIX_LINE:
        for (unsigned n = 1; n <= 31; n += 3)
            if (want == (0x3full << n))
                return true;
        return false;
    default: return false;
    }
}

int pb_roulette_bet_make(int type, const uint8_t *numbers, size_t n, int64_t amount,
                         pb_roulette_bet *out)
{
    if (type < 0 || type >= PB_RBET_COUNT_ || amount <= 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->type = (uint8_t)type;
    out->amount = amount;
    uint64_t mask = 0;
    if (type <= PB_RBET_SIX_LINE) {
        static const uint8_t need[] = {
            [PB_RBET_STRAIGHT] = 1, [PB_RBET_SPLIT] = 2,  [PB_RBET_STREET] = 3,
            [PB_RBET_TRIO] = 3,     [PB_RBET_CORNER] = 4, [PB_RBET_FIRST_FOUR] = 4,
            [PB_RBET_SIX_LINE] = 6};
        if (n != need[type])
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (numbers[i] > 36 || (mask & bit(numbers[i])))
                return -1; /* off the table or repeated */
            mask |= bit(numbers[i]);
        }
        if (!inside_valid(type, mask))
            return -1;
    } else if (type == PB_RBET_DOZEN || type == PB_RBET_COLUMN) {
        if (n != 1 || numbers[0] < 1 || numbers[0] > 3)
            return -1;
        mask = numbers_where(type, numbers[0]);
    } else {
        if (n != 0)
            return -1;
        mask = type == PB_RBET_RED     ? RED_MASK
               : type == PB_RBET_BLACK ? NUMBERS_MASK & ~RED_MASK
                                       : numbers_where(type, 0);
    }
    /* the numbers it covers, ascending (dozen/column keep their 1..3 selector) */
    if (type == PB_RBET_DOZEN || type == PB_RBET_COLUMN) {
        out->count = 1;
        out->numbers[0] = numbers[0];
    } else if (type <= PB_RBET_SIX_LINE) {
        for (unsigned k = 0; k < PB_ROULETTE_POCKETS; k++)
            if (mask & bit(k))
                out->numbers[out->count++] = (uint8_t)k;
    }
    out->mask = mask;
    return 0;
}

/* Σ amount · (pays + 1) · covered over 37 · Σ amount: 36/37 for any mix. */
pb_err pb_roulette_rtp(const pb_roulette_params *p, pb_rtp *out)
{
    if (p->count < 1 || p->count > PB_ROULETTE_BETS_MAX)
        return PB_ERR_FIELD_INVALID;
    unsigned __int128 num = 0, stake = 0;
    for (size_t i = 0; i < p->count; i++) {
        const pb_roulette_bet *b = &p->bets[i];
        if (b->amount <= 0 || b->type >= PB_RBET_COUNT_ || !b->mask)
            return PB_ERR_FIELD_INVALID;
        num += (unsigned __int128)b->amount * (bet_pays[b->type] + 1u) *
               (unsigned)__builtin_popcountll(b->mask);
        stake += (unsigned __int128)b->amount;
    }
    pb_games_rtp_set(out, num, stake * PB_ROULETTE_POCKETS);
    return PB_OK;
}
