#include "fes_tilt_trigger.h"

#include <math.h>

void fes_tilt_trigger_init(fes_tilt_trigger_t *d, const fes_tilt_trigger_config_t *cfg, double adaptation_strides)
{
    d->cfg = *cfg;
    d->adapt_tau_s = adaptation_strides * 1.0;
    d->min_stance_s = cfg->min_stance_ms * 1e-3;
    d->min_swing_s = cfg->min_swing_ms * 1e-3;
    d->max_push_s = cfg->max_push_off_ms * 1e-3;
    d->max_swing_s = cfg->max_swing_ms * 1e-3;
    d->lag_s = cfg->heel_strike_lag_ms * 1e-3;
    fes_tilt_trigger_reset(d);
}

void fes_tilt_trigger_reset(fes_tilt_trigger_t *d)
{
    const fes_tilt_trigger_config_t *c = &d->cfg;
    d->phase = FES_PHASE_STANCE;
    d->aborted = false;
    d->threshold_deg = c->heel_off_tilt_deg;
    double span = c->min_tilt_range_deg > 40.0 ? c->min_tilt_range_deg : 40.0;
    d->low_deg = c->heel_off_tilt_deg - c->heel_off_fraction * span;
    d->high_deg = d->low_deg + span;
    d->t_prev = NAN;
    d->prev_tilt = NAN;
    d->t_heel_strike = -INFINITY;
    d->t_heel_off = -INFINITY;
    d->t_toe_off = -INFINITY;
    d->peak_rate = 0.0;
    d->min_tilt = INFINITY;
    d->t_min = 0.0;
    d->swing_armed = false;
}

unsigned fes_tilt_trigger_update(fes_tilt_trigger_t *d, double t_s, double tilt_deg, double rate_dps)
{
    const fes_tilt_trigger_config_t *c = &d->cfg;
    d->aborted = false;
    double prev = d->prev_tilt;
    d->prev_tilt = tilt_deg;
    double tp = d->t_prev;
    d->t_prev = t_s;

    /* slow envelope followers of the tilt extremes */
    double dt = t_s > tp ? t_s - tp : 0.0;
    double k = dt / d->adapt_tau_s;
    if (tilt_deg > d->high_deg) {
        d->high_deg = tilt_deg;
    } else {
        d->high_deg -= (d->high_deg - tilt_deg) * k;
    }
    if (tilt_deg < d->low_deg) {
        d->low_deg = tilt_deg;
    } else {
        d->low_deg += (tilt_deg - d->low_deg) * k;
    }
    double span = d->high_deg - d->low_deg;
    if (span < c->min_tilt_range_deg) {
        span = c->min_tilt_range_deg;
    }
    double thr = d->low_deg + c->heel_off_fraction * span;
    d->threshold_deg = thr;

    if (d->phase == FES_PHASE_STANCE) {
        if (prev < thr && thr <= tilt_deg && rate_dps >= c->heel_off_rate_dps &&
            t_s - d->t_heel_strike >= d->min_stance_s) {
            d->phase = FES_PHASE_PUSH_OFF;
            d->t_heel_off = t_s;
            d->peak_rate = rate_dps;
            return FES_EVENT_HEEL_OFF;
        }
        return FES_EVENT_NONE;
    }
    if (d->phase == FES_PHASE_PUSH_OFF) {
        if (rate_dps > d->peak_rate) {
            d->peak_rate = rate_dps;
        } else if (rate_dps <= c->toe_off_rate_fraction * d->peak_rate) {
            d->phase = FES_PHASE_SWING;
            d->t_toe_off = t_s;
            d->min_tilt = tilt_deg;
            d->t_min = t_s;
            d->swing_armed = false;
            return FES_EVENT_TOE_OFF;
        }
        if (tilt_deg < thr - c->hysteresis_deg || t_s - d->t_heel_off > d->max_push_s) {
            d->phase = FES_PHASE_STANCE;
            d->aborted = true;
        }
        return FES_EVENT_NONE;
    }
    /* swing */
    if (tilt_deg < d->min_tilt) {
        d->min_tilt = tilt_deg;
        d->t_min = t_s;
    }
    if (rate_dps <= -c->min_swing_rate_dps) {
        d->swing_armed = true;
    } else if (d->swing_armed && tilt_deg >= d->min_tilt + c->heel_strike_rise_deg && t_s >= d->t_min + d->lag_s &&
               t_s - d->t_toe_off >= d->min_swing_s) {
        d->phase = FES_PHASE_STANCE;
        d->t_heel_strike = t_s;
        return FES_EVENT_HEEL_STRIKE;
    }
    if (t_s - d->t_toe_off > d->max_swing_s) {
        d->phase = FES_PHASE_STANCE;
    }
    return FES_EVENT_NONE;
}
