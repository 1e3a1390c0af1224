#include "fes_tilt_trigger.h"

#include <math.h>

void fes_tilt_trigger_init(fes_tilt_trigger_t *d, const fes_tilt_trigger_config_t *cfg, double adaptation_strides)
{
    d->cfg = *cfg;
    d->adapt_per_deg = 1.0 / (adaptation_strides * FES_DEG_PER_STRIDE);
    d->min_stance_s = cfg->min_stance_ms * 1e-3;
    d->min_swing_s = cfg->min_swing_ms * 1e-3;
    d->min_push_s = cfg->min_push_off_ms * 1e-3;
    d->max_push_s = cfg->max_push_off_ms * 1e-3;
    d->max_swing_s = cfg->max_swing_ms * 1e-3;
    d->lag_s = cfg->heel_strike_lag_ms * 1e-3;
    d->ho_tau_s = cfg->heel_off_rate_smoothing_ms * 1e-3;
    d->still_s = cfg->still_ms * 1e-3;
    fes_preswing_configure(&d->peak, cfg->toe_off_rise_fraction, cfg->toe_off_symmetry, cfg->toe_off_lag_ms * 1e-3,
                           cfg->toe_off_drop_fraction, cfg->toe_off_rate_fraction, cfg->toe_off_rebound_fraction);
    fes_tilt_trigger_reset(d);
}

void fes_tilt_trigger_reset(fes_tilt_trigger_t *d)
{
    const fes_tilt_trigger_config_t *c = &d->cfg;
    d->phase = FES_PHASE_STANCE;
    d->aborted = false;
    d->threshold_deg = c->heel_off_tilt_deg;
    /* followers start so that low + fraction*(high-low) equals the initial threshold,
     * with the smallest accepted span, so the first strides widen it at once */
    double span = c->min_tilt_range_deg;
    d->low_deg = c->heel_off_tilt_deg - c->heel_off_fraction * span;
    d->high_deg = d->low_deg + span;
    d->t_prev = NAN;
    d->prev_tilt = NAN;
    d->t_heel_strike = -INFINITY;
    d->t_heel_off = -INFINITY;
    d->t_toe_off = -INFINITY;
    d->peak_rate_follower = c->initial_peak_rate_dps;
    d->strides_seen = 0u;
    d->stride_max_rate = 0.0;
    d->stride_low_deg = INFINITY;
    d->stride_high_deg = -INFINITY;
    d->ho_rate = 0.0;
    d->t_moving = -INFINITY;
    d->min_tilt = INFINITY;
    d->t_min = 0.0;
    d->swing_armed = false;
    d->ho_armed = false;
}

void fes_tilt_trigger_interrupt(fes_tilt_trigger_t *d)
{
    d->phase = FES_PHASE_STANCE;
    d->ho_armed = false;
    d->swing_armed = false;
    d->prev_tilt = NAN;
    d->t_prev = NAN;
    d->t_heel_strike = -INFINITY;
    d->stride_max_rate = 0.0;
    d->stride_low_deg = INFINITY;
    d->stride_high_deg = -INFINITY;
}

static void enter_swing(fes_tilt_trigger_t *d, double t_s, double tilt_deg)
{
    d->phase = FES_PHASE_SWING;
    d->t_toe_off = t_s;
    d->min_tilt = tilt_deg;
    d->t_min = t_s;
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
    double dt = t_s > tp ? t_s - tp : 0.0;
    /* envelope followers of the tilt extremes relax per degree of shank rotation */
    double move = tilt_deg - prev;
    double k = move == move ? (move > 0.0 ? move : -move) * d->adapt_per_deg : 0.0;
    double ho_rate = d->ho_rate;
    if (rate_dps == rate_dps) { /* the first tilt-channel sample has no rate yet */
        ho_rate = ho_rate + (rate_dps - ho_rate) * (dt > 0.0 ? dt / (dt + d->ho_tau_s) : 1.0);
        d->ho_rate = ho_rate;
    }
    if (tilt_deg > d->high_deg) {
        d->high_deg = tilt_deg;
    } else {
        d->high_deg -= (d->high_deg - tilt_deg) * k;
    }
    if (ho_rate > d->stride_max_rate) {
        d->stride_max_rate = ho_rate;
    } else if (ho_rate < d->peak_rate_follower) {
        /* the peak-rate follower relaxes per degree too */
        d->peak_rate_follower -= (d->peak_rate_follower - (ho_rate > 0.0 ? ho_rate : 0.0)) * k;
    }
    if (tilt_deg < d->low_deg) {
        d->low_deg = tilt_deg;
    } else {
        d->low_deg += (tilt_deg - d->low_deg) * k;
    }
    if (tilt_deg > d->stride_high_deg) {
        d->stride_high_deg = tilt_deg;
    }
    if (tilt_deg < d->stride_low_deg) {
        d->stride_low_deg = tilt_deg;
    }
    double span = d->high_deg - d->low_deg;
    if (span < c->min_tilt_range_deg) {
        span = c->min_tilt_range_deg;
    }
    double thr = d->low_deg + c->heel_off_fraction * span;
    d->threshold_deg = thr;

    if (ho_rate >= c->still_rate_dps || ho_rate <= -c->still_rate_dps) {
        d->t_moving = t_s;
    }
    if (d->phase != FES_PHASE_STANCE && t_s - d->t_moving > d->still_s) {
        d->phase = FES_PHASE_STANCE; /* the shank has stopped in push-off or swing: the walker has stopped */
        d->aborted = true;
        return FES_EVENT_NONE;
    }
    if (d->phase == FES_PHASE_STANCE) {
        if (tilt_deg < thr) {
            d->ho_armed = true; /* a heel-off needs the tilt to have been below the threshold */
        } else if (d->ho_armed && ho_rate >= c->heel_off_rate_dps &&
                   ho_rate >= c->heel_off_rate_fraction * d->peak_rate_follower &&
                   t_s - d->t_heel_strike >= d->min_stance_s) {
            d->ho_armed = false;
            d->phase = FES_PHASE_PUSH_OFF;
            d->t_heel_off = t_s;
            fes_preswing_start(&d->peak, t_s, rate_dps);
            return FES_EVENT_HEEL_OFF;
        }
        if (ho_rate <= -c->swing_recovery_rate_dps) {
            enter_swing(d, t_s, tilt_deg);
        }
        return FES_EVENT_NONE;
    }
    if (d->phase == FES_PHASE_PUSH_OFF) {
        bool due = fes_preswing_update(&d->peak, t_s, rate_dps);
        if (d->strides_seen < FES_LEARNING_STRIDES) { /* the tilt range is not known yet: wait for the rate to fall */
            due = due && rate_dps <= c->toe_off_rate_fraction * d->peak.peak_dps;
        }
        if (due && t_s - d->t_heel_off >= d->min_push_s && tilt_deg >= d->low_deg + c->toe_off_min_level * span) {
            enter_swing(d, t_s, tilt_deg);
            return FES_EVENT_TOE_OFF;
        }
        if (ho_rate <= -c->min_swing_rate_dps) {
            enter_swing(d, t_s, tilt_deg); /* after a heel-off, backward rotation means swing: toe-off was missed */
        } else if (tilt_deg < thr - c->hysteresis_deg || t_s - d->t_heel_off > d->max_push_s) {
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
    if (ho_rate <= -c->min_swing_rate_dps) {
        d->swing_armed = true;
    } else if (d->swing_armed && tilt_deg >= d->min_tilt + c->heel_strike_rise_deg && t_s >= d->t_min + d->lag_s &&
               t_s - d->t_toe_off >= d->min_swing_s) {
        /* walking confirmed: learn half of the way to this stride's peak forward rate and
         * pull the tilt extremes half-way in to a stride that stayed inside them */
        d->peak_rate_follower += (d->stride_max_rate - d->peak_rate_follower) * 0.5;
        d->stride_max_rate = 0.0;
        if (d->stride_high_deg < d->high_deg) {
            d->high_deg += (d->stride_high_deg - d->high_deg) * 0.5;
        }
        if (d->stride_low_deg > d->low_deg) {
            d->low_deg += (d->stride_low_deg - d->low_deg) * 0.5;
        }
        d->stride_high_deg = -INFINITY;
        d->stride_low_deg = INFINITY;
        d->phase = FES_PHASE_STANCE;
        d->t_heel_strike = t_s;
        d->strides_seen += 1u;
        return FES_EVENT_HEEL_STRIKE;
    }
    if (t_s - d->t_toe_off > d->max_swing_s) {
        d->phase = FES_PHASE_STANCE;
        d->aborted = true; /* no heel strike came: not a stride, so stimulation stops */
    }
    return FES_EVENT_NONE;
}
