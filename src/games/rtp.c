/*
 * rtp.c — exact theoretical RTP of every game as a fraction, and the
 * statistics `sim rtp` judges a simulation with (chi-square p-values).
 *
 * Exact figures are integers over integers (128-bit while summing, reduced
 * to 64 bits); the double in pb_rtp is for display and statistics only.
 */
#include <math.h>

#include "games/rules.h"

uint64_t pb_games_choose(unsigned n, unsigned k)
{
    if (k > n)
        return 0;
    if (k > n - k)
        k = n - k;
    unsigned __int128 r = 1;
    for (unsigned i = 1; i <= k; i++)
        r = r * (n - k + i) / i; /* exact: r is C(n−k+i, i) after each step */
    return (uint64_t)r;
}

static unsigned __int128 gcd128(unsigned __int128 a, unsigned __int128 b)
{
    while (b) {
        unsigned __int128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void pb_games_rtp_set(pb_rtp *out, unsigned __int128 num, unsigned __int128 den)
{
    if (den == 0) {
        *out = (pb_rtp){0, 1, 0, 0};
        return;
    }
    unsigned __int128 g = gcd128(num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    unsigned __int128 bp = num * PB_RTP_ONE / den;
    while (den > UINT64_MAX || num > UINT64_MAX) { /* keep 64 bits, rounding down */
        num >>= 1;
        den >>= 1;
    }
    out->num = (uint64_t)num;
    out->den = (uint64_t)den;
    out->bp = (uint32_t)bp;
    out->value = (double)num / (double)den;
}

int64_t pb_games_scale(int64_t base_e2, uint32_t rtp_bp, unsigned __int128 num,
                       unsigned __int128 den)
{
    if (base_e2 <= 0 || num == 0)
        return 0;
    return (int64_t)((unsigned __int128)base_e2 * rtp_bp * den / (num * 100));
}

pb_err pb_game_rtp(const pb_game_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (!pb_game_rtp_allowed(p->kind, rtp_bp))
        return PB_ERR_FIELD_INVALID;
    switch (p->kind) {
    case PB_GAME_DICE: return pb_dice_rtp(&p->u.dice, rtp_bp, out);
    case PB_GAME_LIMBO: return pb_limbo_rtp(&p->u.limbo, rtp_bp, out);
    case PB_GAME_CRASH: return pb_crash_rtp(&p->u.crash, rtp_bp, out);
    case PB_GAME_MINES: return pb_mines_rtp(&p->u.mines, rtp_bp, out);
    case PB_GAME_KENO: return pb_keno_rtp(&p->u.keno, rtp_bp, out);
    case PB_GAME_PLINKO: return pb_plinko_rtp(&p->u.plinko, rtp_bp, out);
    case PB_GAME_ROULETTE: return pb_roulette_rtp(&p->u.roulette, out);
    case PB_GAME_SLOT: return pb_slot_rtp(rtp_bp, out);
    default: return PB_ERR_FIELD_INVALID;
    }
}

/* ---- chi-square --------------------------------------------------------- */

/* Regularized upper incomplete gamma Q(a, x): series for x < a + 1, else
 * Lentz's continued fraction (Numerical Recipes §6.2). */
static double gamma_q(double a, double x)
{
    if (x <= 0)
        return 1.0;
    double lg = lgamma(a);
    if (x < a + 1) {
        double sum = 1.0 / a, del = sum, ap = a;
        for (int n = 0; n < 10000; n++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-15)
                break;
        }
        return 1.0 - sum * exp(-x + a * log(x) - lg);
    }
    double b = x + 1 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < 1e-300)
            d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300)
            c = 1e-300;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return exp(-x + a * log(x) - lg) * h;
}

double pb_stats_chi2_pvalue(double chi2, unsigned df)
{
    if (df == 0)
        return 1.0;
    return gamma_q(df / 2.0, chi2 / 2.0);
}

double pb_stats_chi2_critical(unsigned df, double alpha)
{
    if (df == 0)
        return 0;
    double lo = 0, hi = df + 10 * sqrt(2.0 * df) + 50;
    while (pb_stats_chi2_pvalue(hi, df) > alpha)
        hi *= 2;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (pb_stats_chi2_pvalue(mid, df) > alpha)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}
