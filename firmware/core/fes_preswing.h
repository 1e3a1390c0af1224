/* C port of fes_sim.detection.preswing.PreSwingPeak: toe-off from the shape of the
 * pre-swing shank-rate peak. Toe-off is due symmetry times as long after the peak as
 * the rate took to climb its top band (the last sample below rise_fraction * peak),
 * plus lag_s, once the rate is below drop_fraction of the peak, or as soon as it has
 * fallen to rate_fraction of the peak; a rebound of
 * the rate after a dip restarts the search. Same arithmetic as the Python reference. */
#ifndef FES_PRESWING_H
#define FES_PRESWING_H

#include <stdbool.h>
#include <stdint.h>

/* samples of the climb kept (fes_sim.detection.preswing.HISTORY): 4 KiB of RAM */
#define FES_PRESWING_HISTORY 256u

typedef struct {
    double rise_fraction, symmetry, lag_s, drop_fraction, rate_fraction, rebound_fraction;
    double peak_dps, trough_dps, t_peak, t_rise;
    uint32_t n;
    double t[FES_PRESWING_HISTORY];
    double r[FES_PRESWING_HISTORY];
} fes_preswing_t;

void fes_preswing_configure(fes_preswing_t *p, double rise_fraction, double symmetry, double lag_s, double drop_fraction,
                            double rate_fraction, double rebound_fraction);
/* Heel-off at t_s: a new search from this sample. */
void fes_preswing_start(fes_preswing_t *p, double t_s, double rate_dps);
/* One sample after heel-off; true when toe-off is due at it. */
bool fes_preswing_update(fes_preswing_t *p, double t_s, double rate_dps);

#endif
