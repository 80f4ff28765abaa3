/*
 * json.c — outcomes and parameters as JSON: what `pitboss fair verify`
 * prints, what a round records, what an outside verifier compares.
 *
 * Figures with two decimals (dice roll, limbo result, crash point) and
 * multipliers (four decimals) are JSON reals built from their integers: the
 * double nearest the decimal. Printed with 15 significant digits
 * (pb_game_json_dumps) they read as the decimal (8.3, 28.07); every figure the
 * games produce has at most 15 significant digits (crash points < 2^32 · 100).
 */
#include "games/rules.h"

static json_t *hundredths(uint64_t h) { return json_real((double)h / 100.0); }

static json_t *mult(int64_t m) { return json_real((double)m / PB_MULT_ONE); }

static json_t *u8_array(const uint8_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *slot_spin_json(const pb_slot_spin *s)
{
    json_t *grid = json_array();
    for (unsigned r = 0; r < PB_SLOT_ROWS; r++) {
        json_t *row = json_array();
        for (unsigned i = 0; i < PB_SLOT_REELS; i++)
            json_array_append_new(row, json_string(pb_slot_symbol_name(s->grid[r][i])));
        json_array_append_new(grid, row);
    }
    json_t *lines = json_array();
    for (unsigned l = 0; l < PB_SLOT_LINES; l++)
        if (s->line_mask >> l & 1)
            json_array_append_new(lines, json_integer(l));
    return json_pack("{s:o, s:o, s:o, s:i, s:o}", "stops", u8_array(s->stops, PB_SLOT_REELS),
                     "grid", grid, "lines", lines, "scatters", (int)s->scatters, "win",
                     mult(s->win));
}

json_t *pb_game_outcome_json(const pb_game_params *p, const pb_game_outcome *o)
{
    json_t *j = json_pack("{s:s}", "game", pb_game_name(o->kind) ? pb_game_name(o->kind) : "");
    bool playable = pb_game_params_playable(p);
    switch (o->kind) {
    case PB_GAME_DICE: json_object_set_new(j, "result", hundredths(o->u.dice.roll)); break;
    case PB_GAME_LIMBO: json_object_set_new(j, "result", hundredths(o->u.limbo.result)); break;
    case PB_GAME_CRASH: json_object_set_new(j, "point", hundredths(o->u.crash.point)); break;
    case PB_GAME_MINES:
        json_object_set_new(j, "result", u8_array(o->u.mines.positions, o->u.mines.count));
        if (playable) {
            json_object_set_new(j, "safe", json_integer(o->u.mines.safe));
            json_object_set_new(j, "hit", json_boolean(o->u.mines.hit));
        }
        break;
    case PB_GAME_KENO:
        json_object_set_new(j, "result", u8_array(o->u.keno.drawn, PB_KENO_DRAWN));
        if (playable)
            json_object_set_new(j, "hits", json_integer(o->u.keno.hits));
        break;
    case PB_GAME_PLINKO: {
        json_object_set_new(j, "bucket", json_integer(o->u.plinko.bucket));
        json_object_set_new(j, "multiplier", mult(o->multiplier));
        json_t *path = json_array();
        for (unsigned i = 0; i < p->u.plinko.rows; i++)
            json_array_append_new(path, json_integer(o->u.plinko.path >> i & 1));
        json_object_set_new(j, "path", path);
        break;
    }
    case PB_GAME_ROULETTE: {
        unsigned k = o->u.roulette.pocket;
        json_object_set_new(j, "result", json_integer(k));
        json_object_set_new(j, "color",
                            json_string(k == 0                  ? "green"
                                        : pb_roulette_is_red(k) ? "red"
                                                                : "black"));
        break;
    }
    case PB_GAME_SLOT: {
        json_object_set_new(j, "result", u8_array(o->u.slot.spins[0].stops, PB_SLOT_REELS));
        json_t *spins = json_array();
        for (unsigned i = 0; i < o->u.slot.nspins; i++)
            json_array_append_new(spins, slot_spin_json(&o->u.slot.spins[i]));
        json_object_set_new(j, "spins", spins);
        json_object_set_new(j, "free_spins", json_integer(o->u.slot.nspins - 1));
        break;
    }
    default: break;
    }
    if (playable && o->kind != PB_GAME_PLINKO) {
        json_object_set_new(j, "multiplier", mult(o->multiplier));
        json_object_set_new(j, "win", json_boolean(o->win));
    }
    return j;
}

json_t *pb_game_params_to_json(const pb_game_params *p, const pb_currency *cur)
{
    json_t *j = json_object();
    switch (p->kind) {
    case PB_GAME_DICE:
        if (p->u.dice.target) {
            json_object_set_new(j, "target", hundredths(p->u.dice.target));
            json_object_set_new(j, "direction", json_string(p->u.dice.over ? "over" : "under"));
        }
        break;
    case PB_GAME_LIMBO:
        if (p->u.limbo.target)
            json_object_set_new(j, "target", hundredths(p->u.limbo.target));
        break;
    case PB_GAME_CRASH:
        if (p->u.crash.cashout)
            json_object_set_new(j, "cashout", hundredths(p->u.crash.cashout));
        break;
    case PB_GAME_MINES:
        json_object_set_new(j, "mines", json_integer(p->u.mines.mines));
        if (p->u.mines.picks)
            json_object_set_new(j, "tiles", u8_array(p->u.mines.tiles, p->u.mines.picks));
        break;
    case PB_GAME_KENO:
        if (p->u.keno.count) {
            json_object_set_new(j, "risk", json_string(pb_game_risk_name(p->u.keno.risk)));
            json_object_set_new(j, "picks", u8_array(p->u.keno.picks, p->u.keno.count));
        }
        break;
    case PB_GAME_PLINKO:
        json_object_set_new(j, "rows", json_integer(p->u.plinko.rows));
        json_object_set_new(j, "risk", json_string(pb_game_risk_name(p->u.plinko.risk)));
        break;
    case PB_GAME_ROULETTE: {
        if (!p->u.roulette.count)
            break;
        json_t *bets = json_array();
        for (size_t i = 0; i < p->u.roulette.count; i++) {
            const pb_roulette_bet *b = &p->u.roulette.bets[i];
            json_t *bj = json_pack("{s:s}", "type", pb_roulette_bet_name(b->type));
            if (b->count)
                json_object_set_new(bj, "numbers", u8_array(b->numbers, b->count));
            char buf[PB_MONEY_STR_MAX];
            if (cur && pb_money_format(b->amount, cur, buf, sizeof buf) >= 0)
                json_object_set_new(bj, "amount", json_string(buf));
            else
                json_object_set_new(bj, "amount", json_integer(b->amount));
            json_array_append_new(bets, bj);
        }
        json_object_set_new(j, "bets", bets);
        break;
    }
    default: break;
    }
    return j;
}

char *pb_game_json_dumps(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
}
