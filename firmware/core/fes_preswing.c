#include "fes_preswing.h"

void fes_preswing_configure(fes_preswing_t *p, double rise_fraction, double symmetry, double lag_s, double drop_fraction,
                            double rate_fraction, double rebound_fraction)
{
    p->rise_fraction = rise_fraction;
    p->symmetry = symmetry;
    p->lag_s = lag_s;
    p->drop_fraction = drop_fraction;
    p->rate_fraction = rate_fraction;
    p->rebound_fraction = rebound_fraction;
}

static void push(fes_preswing_t *p, double t_s, double rate_dps)
{
    uint32_t k = p->n % FES_PRESWING_HISTORY;
    p->t[k] = t_s;
    p->r[k] = rate_dps;
    p->n += 1u;
}

/* time of the newest kept sample below level (the oldest kept one if none is) */
static double last_below(const fes_preswing_t *p, double level)
{
    uint32_t oldest = p->n > FES_PRESWING_HISTORY ? p->n - FES_PRESWING_HISTORY : 0u;
    for (uint32_t k = p->n; k > oldest; --k) {
        uint32_t i = (k - 1u) % FES_PRESWING_HISTORY;
        if (p->r[i] < level) {
            return p->t[i];
        }
    }
    return p->t[oldest % FES_PRESWING_HISTORY];
}

void fes_preswing_start(fes_preswing_t *p, double t_s, double rate_dps)
{
    p->peak_dps = p->trough_dps = rate_dps;
    p->t_peak = p->t_rise = t_s;
    p->n = 0u;
    push(p, t_s, rate_dps);
}

bool fes_preswing_update(fes_preswing_t *p, double t_s, double rate_dps)
{
    if (rate_dps > p->peak_dps) {
        p->peak_dps = p->trough_dps = rate_dps;
        p->t_peak = t_s;
        p->t_rise = last_below(p, p->rise_fraction * rate_dps);
    } else if (rate_dps > p->trough_dps + p->rebound_fraction * p->peak_dps) {
        fes_preswing_start(p, t_s, rate_dps); /* the rate climbs again after a dip */
        return false;
    } else if (rate_dps < p->trough_dps) {
        p->trough_dps = rate_dps;
    }
    push(p, t_s, rate_dps);
    double peak = p->peak_dps;
    return rate_dps <= p->rate_fraction * peak ||
           (rate_dps <= p->drop_fraction * peak && rate_dps <= p->trough_dps /* still falling */ &&
            t_s >= p->t_peak + p->symmetry * (p->t_peak - p->t_rise) + p->lag_s);
}
