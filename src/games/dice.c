/*
 * dice.c — dice: roll = floor(f · 10001) hundredths (0.00 .. 100.00), a bet
 * over or under a target, multiplier = floor(rtp_bp · 10000 / chance) with the
 * win chance in hundredths of a percent. All integer arithmetic.
 */
#include "games/rules.h"

uint32_t pb_dice_roll(pb_fair_stream *s)
{
    return pb_fair_scale(pb_fair_stream_u32(s), PB_DICE_ROLL_MAX + 1);
}

uint32_t pb_dice_chance(const pb_dice_params *p)
{
    if (p->over)
        return p->target >= PB_DICE_ROLL_MAX - PB_DICE_CHANCE_MAX && p->target < PB_DICE_ROLL_MAX
                   ? PB_DICE_ROLL_MAX - p->target
                   : 0;
    return p->target >= PB_DICE_CHANCE_MIN && p->target <= PB_DICE_CHANCE_MAX ? p->target : 0;
}

int64_t pb_dice_multiplier(const pb_dice_params *p, uint32_t rtp_bp)
{
    uint32_t chance = pb_dice_chance(p);
    if (!chance)
        return 0;
    return (int64_t)rtp_bp * PB_MULT_ONE / chance;
}

bool pb_dice_wins(const pb_dice_params *p, uint32_t roll)
{
    return p->over ? roll > p->target : roll < p->target;
}

/* Rolls that win: over t → t+1 .. 10000 (10000 − t of them); under t → 0 .. t−1
 * (t of them): exactly `chance` of the 10001 rolls. */
pb_err pb_dice_rtp(const pb_dice_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    uint32_t chance = pb_dice_chance(p);
    if (!chance)
        return PB_ERR_FIELD_INVALID;
    pb_games_rtp_set(out, (unsigned __int128)chance * (uint64_t)pb_dice_multiplier(p, rtp_bp),
                     (unsigned __int128)(PB_DICE_ROLL_MAX + 1) * PB_MULT_ONE);
    return PB_OK;
}
