/*
 * game.c — the generic door to the games: names and RTP ranges, strict
 * parameter parsing from JSON, one-shot play, payouts and the multiplier cap.
 *
 * The money side knows a game only by its name: it parses the player's
 * parameters here (refusals name the field), plays with the seed pair and
 * nonce of the round (pb_game_play), and pays pb_game_payout. `fair verify`
 * and `sim rtp` go through the same three calls.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "games/rules.h"

static const pb_game_info infos[PB_GAME_COUNT_] = {
    [PB_GAME_DICE] = {PB_GAME_DICE, "dice", 8000, 9900, 9900, false, false},
    [PB_GAME_LIMBO] = {PB_GAME_LIMBO, "limbo", 8000, 9900, 9900, false, false},
    [PB_GAME_CRASH] = {PB_GAME_CRASH, "crash", 8000, 9900, 9900, false, true},
    [PB_GAME_MINES] = {PB_GAME_MINES, "mines", 8000, 9900, 9900, true, false},
    [PB_GAME_KENO] = {PB_GAME_KENO, "keno", 8000, 9900, 9900, false, false},
    [PB_GAME_PLINKO] = {PB_GAME_PLINKO, "plinko", 8000, 9900, 9900, false, false},
    /* fixed by the wheel: 36/37 = 97.297…%, floor in basis points */
    [PB_GAME_ROULETTE] = {PB_GAME_ROULETTE, "roulette", 9729, 9729, 9729, false, false},
    [PB_GAME_SLOT] = {PB_GAME_SLOT, "slot", 8000, 9700, 9600, false, false},
};

pb_game_kind pb_game_parse(const char *name)
{
    for (int k = 1; name && k < PB_GAME_COUNT_; k++)
        if (strcmp(name, infos[k].name) == 0)
            return (pb_game_kind)k;
    return PB_GAME_NONE;
}

const char *pb_game_name(pb_game_kind kind)
{
    return kind > PB_GAME_NONE && kind < PB_GAME_COUNT_ ? infos[kind].name : NULL;
}

const pb_game_info *pb_game_info_of(pb_game_kind kind)
{
    return kind > PB_GAME_NONE && kind < PB_GAME_COUNT_ ? &infos[kind] : NULL;
}

bool pb_game_rtp_allowed(pb_game_kind kind, uint32_t rtp_bp)
{
    const pb_game_info *i = pb_game_info_of(kind);
    return i && rtp_bp >= i->min_rtp_bp && rtp_bp <= i->max_rtp_bp;
}

static const char *const risk_names[PB_RISK_COUNT_] = {"low", "medium", "high"};

int pb_game_risk_parse(const char *s)
{
    for (int i = 0; s && i < PB_RISK_COUNT_; i++)
        if (strcmp(s, risk_names[i]) == 0)
            return i;
    return -1;
}

const char *pb_game_risk_name(int risk)
{
    return risk >= 0 && risk < PB_RISK_COUNT_ ? risk_names[risk] : NULL;
}

int pb_game_payout_of(int64_t bet, int64_t mult, int64_t *payout)
{
    if (bet < 0 || mult < 0)
        return -1;
    uint64_t small;
    if (!__builtin_mul_overflow((uint64_t)bet, (uint64_t)mult, &small)) { /* the usual case */
        *payout = (int64_t)(small / PB_MULT_ONE);
        return 0;
    }
    unsigned __int128 v = (unsigned __int128)(uint64_t)bet * (uint64_t)mult / PB_MULT_ONE;
    if (v > INT64_MAX)
        return -1;
    *payout = (int64_t)v;
    return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static pb_err refuse(pb_game_error *err, pb_err code, const char *field, const char *msg)
{
    if (err) {
        err->code = code;
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return code;
}

/* Refuses any key of obj not in allowed (NULL-terminated). */
static pb_err only_fields(const json_t *obj, const char *const *allowed, const char *prefix,
                          pb_game_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            ok = ok || strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char f[48];
            snprintf(f, sizeof f, "%s%s", prefix, key);
            return refuse(err, PB_ERR_UNKNOWN_FIELD, f, "unknown field");
        }
    }
    return PB_OK;
}

/* A multiplier-like value with at most 2 decimals (number or decimal string)
 * → hundredths in [min, max]. Returns 0 or -1. */
static int hundredths(const json_t *v, uint64_t min, uint64_t max, uint32_t *out)
{
    uint64_t h;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > max / 100)
            return -1;
        h = (uint64_t)i * 100;
    } else if (json_is_real(v)) {
        double x = json_real_value(v) * 100;
        if (!(x >= 0) || x > (double)max)
            return -1;
        double r = nearbyint(x);
        if (fabs(x - r) > 1e-6 * (r > 1 ? r : 1))
            return -1; /* more than 2 decimals */
        h = (uint64_t)r;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        uint64_t ip = 0, fp = 0;
        size_t i = 0, nd = 0, nf = 0;
        for (; s[i] >= '0' && s[i] <= '9'; i++, nd++) {
            if (ip > max)
                return -1;
            ip = ip * 10 + (uint64_t)(s[i] - '0');
        }
        if (!nd || (nd > 1 && s[0] == '0'))
            return -1;
        if (s[i] == '.') {
            for (i++; s[i] >= '0' && s[i] <= '9'; i++, nf++)
                fp = fp * 10 + (uint64_t)(s[i] - '0');
            if (nf < 1 || nf > 2)
                return -1;
            if (nf == 1)
                fp *= 10;
        }
        if (s[i] || ip > max / 100)
            return -1;
        h = ip * 100 + fp;
    } else {
        return -1;
    }
    if (h < min || h > max)
        return -1;
    *out = (uint32_t)h;
    return 0;
}

/* An integer in [min, max]. */
static int small_int(const json_t *v, long min, long max, long *out)
{
    if (!json_is_integer(v))
        return -1;
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return -1;
    *out = (long)i;
    return 0;
}

/* An array of 1..cap distinct integers in [min, max] into out; *n its length. */
static int int_list(const json_t *v, size_t cap, long min, long max, uint8_t *out, size_t *n,
                    bool distinct)
{
    if (!json_is_array(v) || json_array_size(v) > cap)
        return -1;
    uint64_t seen = 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        long x;
        if (small_int(e, min, max, &x) != 0)
            return -1;
        if (distinct && (seen >> x & 1))
            return -1;
        seen |= (uint64_t)1 << x;
        out[i] = (uint8_t)x;
    }
    *n = json_array_size(v);
    return 0;
}

static pb_err parse_risk(const json_t *obj, bool required, uint8_t *out, pb_game_error *err)
{
    const json_t *v = json_object_get(obj, "risk");
    if (!v)
        return required ? refuse(err, PB_ERR_FIELD_MISSING, "risk", "risk is required") : PB_OK;
    int r = json_is_string(v) ? pb_game_risk_parse(json_string_value(v)) : -1;
    if (r < 0)
        return refuse(err, PB_ERR_FIELD_INVALID, "risk", "risk is low, medium or high");
    *out = (uint8_t)r;
    return PB_OK;
}

static pb_err parse_roulette(const json_t *obj, const pb_currency *cur, pb_roulette_params *r,
                             pb_game_error *err)
{
    const json_t *bets = json_object_get(obj, "bets");
    if (!bets)
        return PB_OK;
    if (!json_is_array(bets) || json_array_size(bets) < 1 ||
        json_array_size(bets) > PB_ROULETTE_BETS_MAX)
        return refuse(err, PB_ERR_FIELD_INVALID, "bets", "bets is an array of 1 to 64 bets");
    static const char *const allowed[] = {"type", "numbers", "amount", NULL};
    size_t i;
    json_t *b;
    json_array_foreach(bets, i, b) {
        char f[48];
        snprintf(f, sizeof f, "bets[%zu]", i);
        if (!json_is_object(b))
            return refuse(err, PB_ERR_FIELD_INVALID, f, "a bet is an object");
        char prefix[40];
        snprintf(prefix, sizeof prefix, "bets[%zu].", i);
        pb_err e = only_fields(b, allowed, prefix, err);
        if (e != PB_OK)
            return e;
        const json_t *t = json_object_get(b, "type");
        snprintf(f, sizeof f, "bets[%zu].type", i);
        if (!t)
            return refuse(err, PB_ERR_FIELD_MISSING, f, "a bet has a type");
        int type = json_is_string(t) ? pb_roulette_bet_parse(json_string_value(t)) : -1;
        if (type < 0)
            return refuse(err, PB_ERR_FIELD_INVALID, f, "unknown bet type");
        uint8_t nums[18];
        size_t n = 0;
        const json_t *nv = json_object_get(b, "numbers");
        snprintf(f, sizeof f, "bets[%zu].numbers", i);
        if (nv && int_list(nv, 6, 0, 36, nums, &n, true) != 0)
            return refuse(err, PB_ERR_FIELD_INVALID, f, "numbers are distinct integers 0..36");
        const json_t *av = json_object_get(b, "amount");
        snprintf(f, sizeof f, "bets[%zu].amount", i);
        if (!av)
            return refuse(err, PB_ERR_FIELD_MISSING, f, "a bet has an amount");
        int64_t amount = 0;
        if (!cur)
            return refuse(err, PB_ERR_FIELD_INVALID, f, "no currency to read amounts in");
        if (!json_is_string(av) ||
            pb_money_parse(json_string_value(av), strlen(json_string_value(av)), cur, &amount) !=
                PB_MONEY_OK ||
            amount <= 0)
            return refuse(err, PB_ERR_AMOUNT_INVALID, f, "amount is a positive decimal string");
        if (pb_roulette_bet_make(type, nums, n, amount, &r->bets[i]) != 0) {
            snprintf(f, sizeof f, "bets[%zu].numbers", i);
            return refuse(err, PB_ERR_FIELD_INVALID, f, "these numbers do not form that bet");
        }
    }
    r->count = json_array_size(bets);
    if (pb_game_stake_total(&(pb_game_params){.kind = PB_GAME_ROULETTE, .u.roulette = *r}) < 0)
        return refuse(err, PB_ERR_OVERFLOW, "bets", "the stakes overflow");
    return PB_OK;
}

pb_err pb_game_params_from_json(pb_game_kind kind, const json_t *params, const pb_currency *cur,
                                pb_game_params *out, pb_game_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    if (!pb_game_info_of(kind))
        return refuse(err, PB_ERR_FIELD_INVALID, "game", "unknown game");
    json_t *empty = NULL;
    if (!params)
        params = empty = json_object();
    pb_err e = PB_OK;
    if (!json_is_object(params)) {
        e = refuse(err, PB_ERR_INVALID_REQUEST, "params", "params is an object");
        goto done;
    }
    const json_t *v;
    long x;
    switch (kind) {
    case PB_GAME_DICE: {
        static const char *const f[] = {"target", "direction", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        out->u.dice.over = true;
        if ((v = json_object_get(params, "direction"))) {
            const char *d = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(d, "over") != 0 && strcmp(d, "under") != 0) {
                e = refuse(err, PB_ERR_FIELD_INVALID, "direction", "direction is over or under");
                break;
            }
            out->u.dice.over = d[0] == 'o';
        }
        if ((v = json_object_get(params, "target")) &&
            (hundredths(v, 1, PB_DICE_ROLL_MAX, &out->u.dice.target) != 0 ||
             !pb_dice_chance(&out->u.dice)))
            e = refuse(err, PB_ERR_FIELD_INVALID, "target",
                       "target gives a win chance outside 0.01..98.00%");
        break;
    }
    case PB_GAME_LIMBO: {
        static const char *const f[] = {"target", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        if ((v = json_object_get(params, "target")) &&
            hundredths(v, PB_LIMBO_TARGET_MIN, PB_LIMBO_TARGET_MAX, &out->u.limbo.target) != 0)
            e = refuse(err, PB_ERR_FIELD_INVALID, "target", "target is 1.01 to 1000000.00");
        break;
    }
    case PB_GAME_CRASH: {
        static const char *const f[] = {"cashout", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        if ((v = json_object_get(params, "cashout")) &&
            hundredths(v, PB_CRASH_TARGET_MIN, PB_CRASH_TARGET_MAX, &out->u.crash.cashout) != 0)
            e = refuse(err, PB_ERR_FIELD_INVALID, "cashout", "cashout is 1.01 to 1000000.00");
        break;
    }
    case PB_GAME_MINES: {
        static const char *const f[] = {"mines", "tiles", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        if (!(v = json_object_get(params, "mines"))) {
            e = refuse(err, PB_ERR_FIELD_MISSING, "mines", "mines is required");
            break;
        }
        if (small_int(v, PB_MINES_MIN, PB_MINES_MAX, &x) != 0) {
            e = refuse(err, PB_ERR_FIELD_INVALID, "mines", "mines is 1 to 24");
            break;
        }
        out->u.mines.mines = (uint8_t)x;
        size_t n = 0;
        if ((v = json_object_get(params, "tiles")) &&
            (int_list(v, PB_MINES_TILES - (size_t)x, 0, PB_MINES_TILES - 1, out->u.mines.tiles, &n,
                      true) != 0 ||
             n == 0))
            e = refuse(err, PB_ERR_FIELD_INVALID, "tiles",
                       "tiles are 1 to 25 - mines distinct tiles 0..24");
        out->u.mines.picks = (uint8_t)n;
        break;
    }
    case PB_GAME_KENO: {
        static const char *const f[] = {"risk", "picks", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        const json_t *picks = json_object_get(params, "picks");
        if ((e = parse_risk(params, picks != NULL, &out->u.keno.risk, err)) != PB_OK)
            break;
        size_t n = 0;
        if (picks && (int_list(picks, PB_KENO_PICKS_MAX, 1, PB_KENO_NUMBERS, out->u.keno.picks, &n,
                               true) != 0 ||
                      n == 0))
            e = refuse(err, PB_ERR_FIELD_INVALID, "picks",
                       "picks are 1 to 10 distinct numbers 1..40");
        out->u.keno.count = (uint8_t)n;
        break;
    }
    case PB_GAME_PLINKO: {
        static const char *const f[] = {"rows", "risk", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        if (!(v = json_object_get(params, "rows"))) {
            e = refuse(err, PB_ERR_FIELD_MISSING, "rows", "rows is required");
            break;
        }
        if (small_int(v, PB_PLINKO_ROWS_MIN, PB_PLINKO_ROWS_MAX, &x) != 0) {
            e = refuse(err, PB_ERR_FIELD_INVALID, "rows", "rows is 8 to 16");
            break;
        }
        out->u.plinko.rows = (uint8_t)x;
        e = parse_risk(params, true, &out->u.plinko.risk, err);
        break;
    }
    case PB_GAME_ROULETTE: {
        static const char *const f[] = {"bets", NULL};
        if ((e = only_fields(params, f, "", err)) != PB_OK)
            break;
        e = parse_roulette(params, cur, &out->u.roulette, err);
        break;
    }
    case PB_GAME_SLOT: {
        static const char *const f[] = {NULL};
        e = only_fields(params, f, "", err);
        break;
    }
    default: e = refuse(err, PB_ERR_FIELD_INVALID, "game", "unknown game"); break;
    }
done:
    json_decref(empty);
    return e;
}

bool pb_game_params_playable(const pb_game_params *p)
{
    switch (p->kind) {
    case PB_GAME_DICE: return pb_dice_chance(&p->u.dice) != 0;
    case PB_GAME_LIMBO:
        return p->u.limbo.target >= PB_LIMBO_TARGET_MIN && p->u.limbo.target <= PB_LIMBO_TARGET_MAX;
    case PB_GAME_CRASH: return pb_crash_cashout_playable(p->u.crash.cashout);
    case PB_GAME_MINES:
        return p->u.mines.mines >= PB_MINES_MIN && p->u.mines.mines <= PB_MINES_MAX &&
               p->u.mines.picks >= 1 && p->u.mines.picks <= PB_MINES_TILES - p->u.mines.mines;
    case PB_GAME_KENO:
        return p->u.keno.risk < PB_RISK_COUNT_ && p->u.keno.count >= 1 &&
               p->u.keno.count <= PB_KENO_PICKS_MAX;
    case PB_GAME_PLINKO:
        return p->u.plinko.rows >= PB_PLINKO_ROWS_MIN && p->u.plinko.rows <= PB_PLINKO_ROWS_MAX &&
               p->u.plinko.risk < PB_RISK_COUNT_;
    case PB_GAME_ROULETTE:
        return p->u.roulette.count >= 1 && p->u.roulette.count <= PB_ROULETTE_BETS_MAX;
    case PB_GAME_SLOT: return true;
    default: return false;
    }
}

/* ---- play --------------------------------------------------------------- */

/* Σ amount · (pays + 1) over the bets that cover pocket; -1 on overflow. */
static int64_t roulette_return(const pb_roulette_params *r, unsigned pocket)
{
    int64_t total = 0;
    for (size_t i = 0; i < r->count; i++) {
        const pb_roulette_bet *b = &r->bets[i];
        if (!(b->mask >> pocket & 1))
            continue;
        int64_t ret;
        if (__builtin_mul_overflow(b->amount, (int64_t)pb_roulette_pays(b->type) + 1, &ret) ||
            __builtin_add_overflow(total, ret, &total))
            return -1;
    }
    return total;
}

/* The multiplier of outcome index idx of pp's game (dice, limbo: the win;
 * mines: safe reveals; keno: hits; plinko: bucket; roulette: pocket), or -1
 * for a roulette pocket whose return or stake overflows. The one definition
 * both the tables of a batch and a single round read. */
static int64_t multiplier_at(const pb_games_prep *pp, unsigned idx)
{
    const pb_game_params *p = pp->p;
    switch (p->kind) {
    case PB_GAME_DICE: return pb_dice_multiplier(&p->u.dice, pp->rtp_bp);
    case PB_GAME_LIMBO: return (int64_t)p->u.limbo.target * 100;
    case PB_GAME_MINES: return pb_mines_multiplier(p->u.mines.mines, idx, pp->rtp_bp);
    case PB_GAME_KENO: return pb_keno_multiplier(p->u.keno.risk, p->u.keno.count, idx, pp->rtp_bp);
    case PB_GAME_PLINKO:
        return pb_plinko_multiplier(p->u.plinko.rows, p->u.plinko.risk, idx, pp->rtp_bp);
    case PB_GAME_ROULETTE: {
        int64_t ret = roulette_return(&p->u.roulette, idx);
        if (pp->stake <= 0 || ret < 0)
            return -1;
        return (int64_t)((unsigned __int128)ret * PB_MULT_ONE / (uint64_t)pp->stake);
    }
    default: return 0;
    }
}

/* The multiplier at idx: from the batch's table when it has one. */
static inline int64_t mult(const pb_games_prep *pp, unsigned idx)
{
    return pp->tables ? pp->mult[idx] : multiplier_at(pp, idx);
}

/* Roulette's return at pocket: from the batch's table when it has one. */
static inline int64_t roulette_ret(const pb_games_prep *pp, unsigned pocket)
{
    return pp->tables ? pp->ret[pocket] : roulette_return(&pp->p->u.roulette, pocket);
}

pb_err pb_games_prepare(const pb_game_params *p, uint32_t rtp_bp, bool tables, pb_games_prep *pp)
{
    if (!pb_game_rtp_allowed(p->kind, rtp_bp) || p->kind == PB_GAME_CRASH)
        return PB_ERR_FIELD_INVALID;
    pp->p = p;
    pp->rtp_bp = rtp_bp;
    pp->playable = pb_game_params_playable(p);
    pp->stake = pb_game_stake_total(p);
    pp->tables = false;
    /* keno hits as a popcount when the picks are distinct numbers 1..40 (as
     * parsing makes them), else pb_keno_hits counts them one by one */
    pp->keno_picks = 0;
    if (p->kind == PB_GAME_KENO) {
        uint64_t m = 0;
        bool ok = true;
        for (unsigned i = 0; i < p->u.keno.count && i < PB_KENO_PICKS_MAX; i++) {
            unsigned x = p->u.keno.picks[i];
            ok = ok && x >= 1 && x <= PB_KENO_NUMBERS && !(m >> x & 1);
            m |= ok ? (uint64_t)1 << x : 0;
        }
        pp->keno_picks = ok ? m : 0;
    }
    if (!tables)
        return PB_OK;
    unsigned n = 1;
    switch (p->kind) {
    case PB_GAME_MINES: n = PB_MINES_TILES + 1; break;
    case PB_GAME_KENO: n = PB_KENO_PICKS_MAX + 1; break;
    case PB_GAME_PLINKO: n = PB_PLINKO_ROWS_MAX + 1; break;
    case PB_GAME_ROULETTE: n = PB_ROULETTE_POCKETS; break;
    default: break;
    }
    for (unsigned i = 0; i < n; i++) {
        pp->mult[i] = multiplier_at(pp, i);
        pp->ret[i] = p->kind == PB_GAME_ROULETTE ? roulette_return(&p->u.roulette, i) : 0;
    }
    pp->tables = true;
    return PB_OK;
}

/* The start of every outcome: kind and RTP, nothing won yet. */
static inline void outcome_start(const pb_games_prep *pp, pb_game_outcome *o)
{
    memset(o, 0, offsetof(pb_game_outcome, u));
    o->kind = pp->p->kind;
    o->rtp_bp = pp->rtp_bp;
}

/* A mines round from its positions (in o, drawn): the safe reveals, a hit,
 * the multiplier. */
static void mines_finish(const pb_games_prep *pp, pb_game_outcome *o)
{
    const pb_mines_params *m = &pp->p->u.mines;
    o->u.mines.count = m->mines;
    uint32_t mask = 0;
    for (unsigned i = 0; i < m->mines; i++)
        mask |= 1u << o->u.mines.positions[i];
    unsigned safe = 0;
    bool hit = false;
    for (unsigned i = 0; i < m->picks && !hit; i++) {
        if (mask >> m->tiles[i] & 1)
            hit = true;
        else
            safe++;
    }
    o->u.mines.safe = (uint8_t)safe;
    o->u.mines.hit = hit;
    if (pp->playable && !hit)
        o->multiplier = mult(pp, safe);
}

/* A keno round from its draw (in o, and as the mask drawn): hits, multiplier. */
static void keno_finish(const pb_games_prep *pp, uint64_t drawn, pb_game_outcome *o)
{
    if (pp->playable) {
        o->u.keno.hits = (uint8_t)(pp->keno_picks ? pb_games_popcount(drawn & pp->keno_picks)
                                                  : pb_keno_hits(&pp->p->u.keno, o->u.keno.drawn));
        o->multiplier = mult(pp, o->u.keno.hits);
    }
}

unsigned pb_games_slot_paid(const pb_games_prep *pp, pb_fair_stream *s, pb_game_outcome *o)
{
    outcome_start(pp, o);
    unsigned free_spins = pb_slot_play_paid(s, pp->rtp_bp, o);
    o->win = o->multiplier > 0;
    return free_spins;
}

void pb_games_slot_free(const pb_games_prep *pp, pb_fair_stream *s, unsigned free_spins,
                        pb_game_outcome *o)
{
    pb_slot_play_free(s, pp->rtp_bp, free_spins, o);
    o->win = o->multiplier > 0;
}

pb_err pb_games_play_prepared2(const pb_games_prep *pp, pb_fair_stream *s0, pb_fair_stream *s1,
                               pb_game_outcome *o0, pb_game_outcome *o1)
{
    const pb_game_params *p = pp->p;
    if (p->kind == PB_GAME_KENO) {
        outcome_start(pp, o0);
        outcome_start(pp, o1);
        uint64_t left[2];
        pb_games_draw2(s0, s1, PB_KENO_ALL, PB_KENO_DRAWN, o0->u.keno.drawn, o1->u.keno.drawn,
                       left);
        keno_finish(pp, PB_KENO_ALL & ~left[0], o0);
        keno_finish(pp, PB_KENO_ALL & ~left[1], o1);
    } else if (p->kind == PB_GAME_MINES && p->u.mines.mines >= PB_MINES_MIN &&
               p->u.mines.mines <= PB_MINES_MAX) {
        outcome_start(pp, o0);
        outcome_start(pp, o1);
        pb_mines_positions2(s0, s1, p->u.mines.mines, o0->u.mines.positions, o1->u.mines.positions);
        mines_finish(pp, o0);
        mines_finish(pp, o1);
    } else {
        pb_err e = pb_games_play_prepared(pp, s0, o0);
        return e == PB_OK ? pb_games_play_prepared(pp, s1, o1) : e;
    }
    o0->win = o0->multiplier > 0;
    o1->win = o1->multiplier > 0;
    return PB_OK;
}

pb_err pb_games_play_prepared(const pb_games_prep *pp, pb_fair_stream *s, pb_game_outcome *o)
{
    const pb_game_params *p = pp->p;
    uint32_t rtp_bp = pp->rtp_bp;
    outcome_start(pp, o);
    bool playable = pp->playable;
    switch (p->kind) {
    case PB_GAME_DICE:
        o->u.dice.roll = pb_dice_roll(s);
        if (playable && pb_dice_wins(&p->u.dice, o->u.dice.roll))
            o->multiplier = mult(pp, 0);
        break;
    case PB_GAME_LIMBO:
        o->u.limbo.result = pb_limbo_result(s, rtp_bp);
        if (playable && o->u.limbo.result >= p->u.limbo.target)
            o->multiplier = mult(pp, 0);
        break;
    case PB_GAME_MINES:
        if (p->u.mines.mines < PB_MINES_MIN || p->u.mines.mines > PB_MINES_MAX)
            return PB_ERR_FIELD_INVALID;
        pb_mines_positions(s, p->u.mines.mines, o->u.mines.positions);
        mines_finish(pp, o);
        break;
    case PB_GAME_KENO: keno_finish(pp, pb_keno_draw_bits(s, o->u.keno.drawn), o); break;
    case PB_GAME_PLINKO:
        if (!playable)
            return PB_ERR_FIELD_INVALID;
        o->u.plinko.bucket = (uint8_t)pb_plinko_drop(s, p->u.plinko.rows, &o->u.plinko.path);
        o->multiplier = mult(pp, o->u.plinko.bucket);
        break;
    case PB_GAME_ROULETTE:
        o->u.roulette.pocket = (uint8_t)pb_roulette_spin(s);
        if (playable) {
            int64_t m = mult(pp, o->u.roulette.pocket);
            if (m < 0)
                return PB_ERR_OVERFLOW;
            o->multiplier = m;
        }
        break;
    case PB_GAME_SLOT: pb_slot_play(s, rtp_bp, o); break;
    default: return PB_ERR_FIELD_INVALID;
    }
    o->win = o->multiplier > 0;
    return PB_OK;
}

pb_err pb_game_play_stream(const pb_game_params *p, pb_fair_stream *s, uint32_t rtp_bp,
                           pb_game_outcome *o)
{
    pb_games_prep pp;
    pb_err e = pb_games_prepare(p, rtp_bp, false, &pp);
    return e == PB_OK ? pb_games_play_prepared(&pp, s, o) : e;
}

pb_err pb_game_play(const pb_game_params *p, const pb_game_input *in, uint32_t rtp_bp,
                    pb_game_outcome *o)
{
    if (!pb_game_rtp_allowed(p->kind, rtp_bp))
        return PB_ERR_FIELD_INVALID;
    if (p->kind == PB_GAME_CRASH) {
        if (!pb_fair_hex64_valid(in->crash_hash) || !in->crash_salt)
            return PB_ERR_FIELD_INVALID;
        pb_games_crash_outcome(p, rtp_bp, pb_crash_point(in->crash_hash, in->crash_salt, rtp_bp),
                               o);
        return PB_OK;
    }
    if (!in->key || !pb_fair_client_seed_valid(in->client_seed))
        return PB_ERR_FIELD_INVALID;
    pb_fair_stream s;
    pb_fair_stream_init(&s, in->key, in->client_seed, in->nonce);
    return pb_game_play_stream(p, &s, rtp_bp, o);
}

unsigned pb_game_blocks(const pb_game_params *p)
{
    unsigned floats = 1;
    switch (p->kind) {
    case PB_GAME_KENO: floats = PB_KENO_DRAWN; break;
    case PB_GAME_PLINKO: floats = p->u.plinko.rows; break;
    case PB_GAME_MINES: floats = p->u.mines.mines; break;
    case PB_GAME_SLOT: floats = PB_SLOT_REELS; break;
    default: break;
    }
    unsigned b = (floats + 7) / 8;
    return b < 1 ? 1 : b > PB_FAIR_STREAM_BLOCKS ? PB_FAIR_STREAM_BLOCKS : b;
}

int64_t pb_game_stake_total(const pb_game_params *p)
{
    if (p->kind != PB_GAME_ROULETTE)
        return 0;
    int64_t total = 0;
    for (size_t i = 0; i < p->u.roulette.count; i++)
        if (__builtin_add_overflow(total, p->u.roulette.bets[i].amount, &total))
            return -1;
    return total;
}

pb_err pb_games_payout_prepared(const pb_games_prep *pp, const pb_game_outcome *o, int64_t bet,
                                int64_t *payout)
{
    const pb_game_params *p = pp->p;
    if (bet < 0 || o->kind != p->kind)
        return PB_ERR_FIELD_INVALID;
    if (p->kind == PB_GAME_ROULETTE) {
        if (!pp->playable || bet != pp->stake)
            return PB_ERR_FIELD_INVALID;
        unsigned pocket = o->u.roulette.pocket;
        int64_t ret = pocket < PB_ROULETTE_POCKETS ? roulette_ret(pp, pocket)
                                                   : roulette_return(&p->u.roulette, pocket);
        if (ret < 0)
            return PB_ERR_OVERFLOW;
        *payout = ret;
        return PB_OK;
    }
    return pb_game_payout_of(bet, o->multiplier, payout) == 0 ? PB_OK : PB_ERR_OVERFLOW;
}

pb_err pb_game_payout(const pb_game_params *p, const pb_game_outcome *o, int64_t bet,
                      int64_t *payout)
{
    pb_games_prep pp = {.p = p,
                        .playable = p->kind == PB_GAME_ROULETTE && pb_game_params_playable(p),
                        .stake = pb_game_stake_total(p)};
    return pb_games_payout_prepared(&pp, o, bet, payout);
}

int64_t pb_game_max_multiplier(const pb_game_params *p, uint32_t rtp_bp)
{
    if (!pb_game_rtp_allowed(p->kind, rtp_bp))
        return 0;
    int64_t best = 0;
    switch (p->kind) {
    case PB_GAME_DICE: return pb_dice_multiplier(&p->u.dice, rtp_bp);
    case PB_GAME_LIMBO: return pb_game_params_playable(p) ? (int64_t)p->u.limbo.target * 100 : 0;
    case PB_GAME_CRASH: return pb_game_params_playable(p) ? (int64_t)p->u.crash.cashout * 100 : 0;
    case PB_GAME_MINES: {
        unsigned m = p->u.mines.mines;
        if (m < PB_MINES_MIN || m > PB_MINES_MAX)
            return 0;
        return pb_mines_multiplier(m, p->u.mines.picks ? p->u.mines.picks : PB_MINES_TILES - m,
                                   rtp_bp);
    }
    case PB_GAME_KENO: {
        unsigned lo = p->u.keno.count ? p->u.keno.count : 1;
        unsigned hi = p->u.keno.count ? p->u.keno.count : PB_KENO_PICKS_MAX;
        for (unsigned c = lo; c <= hi; c++)
            for (unsigned h = 0; h <= c; h++) {
                int64_t m = pb_keno_multiplier(p->u.keno.risk, c, h, rtp_bp);
                best = m > best ? m : best;
            }
        return best;
    }
    case PB_GAME_PLINKO:
        /* the tables are U-shaped: an edge bucket pays most */
        for (unsigned k = 0; k <= p->u.plinko.rows; k++) {
            int64_t m = pb_plinko_multiplier(p->u.plinko.rows, p->u.plinko.risk, k, rtp_bp);
            best = m > best ? m : best;
        }
        return best;
    case PB_GAME_ROULETTE: {
        int64_t stake = pb_game_stake_total(p);
        if (stake <= 0)
            return 0;
        for (unsigned k = 0; k < PB_ROULETTE_POCKETS; k++) {
            int64_t ret = roulette_return(&p->u.roulette, k);
            if (ret < 0)
                return 0;
            int64_t m = (int64_t)((unsigned __int128)ret * PB_MULT_ONE / (uint64_t)stake);
            best = m > best ? m : best;
        }
        return best;
    }
    case PB_GAME_SLOT: return pb_slot_max_multiplier(rtp_bp);
    default: return 0;
    }
}
