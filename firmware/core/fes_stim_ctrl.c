#include "fes_stim_ctrl.h"

#include <math.h>

#include "fes_protocol.h"

#define FAST_RATE 1e12 /* ramp rate (1/s) standing for "no ramp" */
#define EPS_S 1e-9 /* timers compare with this slack so float sums of sample periods do not slip a sample */

void fes_stim_ctrl_init(fes_stim_ctrl_t *c, const fes_stim_ctrl_config_t *cfg, double sample_rate_hz, double max_gap_s)
{
    c->cfg = *cfg;
    c->dt_s = 1.0 / sample_rate_hz;
    c->max_gap_s = max_gap_s;
    c->up_rate = cfg->ramp_up_ms > 0.0 ? 1000.0 / cfg->ramp_up_ms : FAST_RATE;
    c->down_rate = cfg->ramp_down_ms > 0.0 ? 1000.0 / cfg->ramp_down_ms : FAST_RATE;
    double n = ceil(cfg->fault_ramp_down_ms * 1e-3 * sample_rate_hz);
    c->fault_samples = n > 1.0 ? (int32_t)n : 1;
    c->fault_step = 1.0 / (double)c->fault_samples;
    /* the forcing sample and the last ramp sample may each come one accepted step late */
    double margin = max_gap_s > c->dt_s ? max_gap_s : c->dt_s;
    c->on_limit_s = cfg->max_on_time_s - cfg->ramp_down_ms * 1e-3 - 2.0 * margin;
    c->on_limit_n = (int32_t)(c->on_limit_s * sample_rate_hz);
    c->period_s = 1.0 / cfg->frequency_hz;
    c->max_pulses = (uint32_t)(c->dt_s * cfg->frequency_hz) + 1u; /* per sample period */
    c->min_off_s = cfg->min_off_time_ms * 1e-3;
    fes_stim_ctrl_reset(c);
}

void fes_stim_ctrl_reset(fes_stim_ctrl_t *c)
{
    c->state = FES_STATE_IDLE;
    c->envelope = 0.0;
    c->current_ma = 0.0;
    c->pulses = 0;
    c->max_on_flag = false;
    c->t_prev = NAN;
    c->t_start = -INFINITY;
    c->t_off = -INFINITY;
    c->t_until = 0.0;
    c->n_on = 0;
    c->next_pulse_t = NAN;
    c->pending = false;
    c->avg_stance_s = 0.6;
    c->avg_swing_s = 0.4;
    c->t_hs = NAN;
    c->t_to = NAN;
}

static double delay_s(const fes_stim_ctrl_t *c)
{
    return c->cfg.percent_timing ? c->cfg.delay_pct * 0.01 * c->avg_stance_s : c->cfg.delay_ms * 1e-3;
}

static double extension_s(const fes_stim_ctrl_t *c)
{
    return c->cfg.percent_timing ? c->cfg.extension_pct * 0.01 * c->avg_swing_s : c->cfg.extension_ms * 1e-3;
}

/* Running averages of stance and swing from the event sequence. */
static void track(fes_stim_ctrl_t *c, double t, unsigned event)
{
    double k = 1.0 / c->cfg.adaptation_strides;
    if (event == FES_EVENT_HEEL_STRIKE) {
        if (c->t_to == c->t_to && c->t_to > c->t_hs) {
            c->avg_swing_s += (t - c->t_to - c->avg_swing_s) * k;
        }
        c->t_hs = t;
    } else if (event == FES_EVENT_TOE_OFF || (event == FES_EVENT_HEEL_OFF && c->cfg.footswitch_detector)) {
        if (c->t_hs == c->t_hs) {
            c->avg_stance_s += (t - c->t_hs - c->avg_stance_s) * k;
        }
        c->t_to = t;
    }
}

/* Begin a burst: first ramp step over one nominal period; clears the on-time flag. */
static double start_burst(fes_stim_ctrl_t *c, double t_s, uint8_t *state)
{
    c->t_start = t_s;
    c->n_on = 1;
    c->max_on_flag = false;
    double env = c->dt_s * c->up_rate;
    if (env >= 1.0) {
        *state = FES_STATE_ON;
        return 1.0;
    }
    *state = FES_STATE_RAMP_UP;
    return env;
}

/* Store the envelope, the current and the pulses of the coming sample period. */
static double emit(fes_stim_ctrl_t *c, double t_s, double env)
{
    c->envelope = env;
    if (env <= 0.0) {
        c->current_ma = 0.0;
        c->pulses = 0;
        c->next_pulse_t = NAN;
        return env;
    }
    c->current_ma = env * c->cfg.current_ma;
    double nxt = c->next_pulse_t;
    if (!(nxt >= t_s)) {
        nxt = t_s;
    }
    double end = t_s + c->dt_s;
    uint32_t n = 0;
    while (nxt < end && n < c->max_pulses) { /* the bound also guards against huge t_s */
        nxt += c->period_s;
        n++;
    }
    c->next_pulse_t = nxt;
    c->pulses = n;
    return env;
}

double fes_stim_ctrl_update(fes_stim_ctrl_t *c, double t_s, unsigned event, bool fault, bool abort)
{
    uint8_t state = c->state;
    double env = c->envelope;
    if (fault) {
        c->t_prev = NAN;
        if (env > 0.0) {
            env -= c->fault_step;
            if (env <= 1e-12) {
                env = 0.0;
                state = FES_STATE_FAULT;
            } else {
                state = FES_STATE_RAMP_DOWN;
            }
        } else {
            state = FES_STATE_FAULT;
        }
        c->n_on = 0;
        c->t_off = -INFINITY;
        c->state = state;
        return emit(c, t_s, env);
    }
    double tp = c->t_prev;
    double dt = tp == tp ? t_s - tp : 0.0;
    if (dt > c->max_gap_s) {
        dt = c->max_gap_s;
    } else if (tp == tp && dt < c->dt_s) {
        dt = c->dt_s; /* a slow clock must not stretch a ramp */
    }
    c->t_prev = t_s;
    if (event != FES_EVENT_NONE) {
        track(c, t_s, event);
    }

    if (state == FES_STATE_IDLE || state == FES_STATE_FAULT) {
        if (state == FES_STATE_FAULT) {
            state = FES_STATE_IDLE;
            c->t_off = t_s;
        }
        if (c->cfg.enabled) {
            /* a heel-off inside the minimum off-time waits for it, until heel strike or abort */
            if (event == FES_EVENT_HEEL_OFF) {
                c->pending = true;
            } else if (event == FES_EVENT_HEEL_STRIKE || abort) {
                c->pending = false;
            }
        }
        if (c->cfg.enabled && t_s - c->t_off >= c->min_off_s && c->pending) {
            c->pending = false;
            double delay = delay_s(c);
            if (delay > 0.0) {
                state = FES_STATE_DELAY;
                c->t_until = t_s + delay;
            } else {
                env = start_burst(c, t_s, &state);
            }
        }
    } else if (state == FES_STATE_DELAY) {
        if (event == FES_EVENT_HEEL_STRIKE || abort) {
            state = FES_STATE_IDLE;
        } else if (t_s >= c->t_until - EPS_S) {
            env = start_burst(c, t_s, &state);
        }
    } else if (state == FES_STATE_RAMP_DOWN) {
        env -= dt * c->down_rate;
        if (env <= 1e-12) {
            env = 0.0;
            state = FES_STATE_IDLE;
            c->t_off = t_s;
        }
    } else { /* RAMP_UP, ON, EXTENSION */
        c->n_on++;
        if (t_s - c->t_start >= c->on_limit_s || c->n_on >= c->on_limit_n) {
            state = FES_STATE_RAMP_DOWN;
            c->max_on_flag = true;
        } else if (abort) {
            state = FES_STATE_RAMP_DOWN;
        } else if (state != FES_STATE_EXTENSION && event == FES_EVENT_HEEL_STRIKE) {
            c->t_until = t_s + extension_s(c);
            state = FES_STATE_EXTENSION;
        } else if (state == FES_STATE_EXTENSION && t_s >= c->t_until - EPS_S) {
            state = FES_STATE_RAMP_DOWN;
        }
        if (state == FES_STATE_RAMP_DOWN) {
            env -= dt * c->down_rate;
            if (env < 0.0) {
                env = 0.0;
            }
        } else if (env < 1.0) {
            env += dt * c->up_rate;
            if (env >= 1.0) {
                env = 1.0;
                if (state == FES_STATE_RAMP_UP) {
                    state = FES_STATE_ON;
                }
            }
        }
    }
    c->state = state;
    return emit(c, t_s, env);
}
