#include "fes_sensor_monitor.h"

#include <math.h>

void fes_sensor_monitor_init(fes_sensor_monitor_t *m, const fes_sensor_monitor_config_t *cfg, double sample_rate_hz)
{
    m->cfg = *cfg;
    m->max_gap_s = cfg->max_gap_ms * 1e-3;
    double stuck = ceil(cfg->stuck_ms * 1e-3 * sample_rate_hz);
    m->stuck_n = stuck > 2.0 ? (uint32_t)stuck : 2u;
    m->recover_n = (uint32_t)ceil(cfg->recover_ms * 1e-3 * sample_rate_hz);
    m->n_channels = 0;
    m->stuck_channel = 0;
    fes_sensor_monitor_reset(m);
}

void fes_sensor_monitor_reset(fes_sensor_monitor_t *m)
{
    m->t_prev = NAN;
    m->bits = 0;
    m->active = 0;
    m->same = 0;
    m->last = NAN;
    m->clean = 0;
}

void fes_sensor_monitor_configure(fes_sensor_monitor_t *m, const uint8_t *channels, uint8_t n)
{
    m->n_channels = n < 4u ? n : 4u;
    for (uint8_t i = 0; i < m->n_channels; ++i) {
        m->channels[i] = channels[i];
    }
    m->stuck_channel = (m->n_channels > 0u && channels[0] != FES_CH_FOOTSWITCH) ? channels[0] : 0u;
}

static double channel_value(const fes_sample_t *s, uint8_t ch)
{
    switch (ch) {
    case FES_CH_TILT:
        return s->tilt_deg;
    case FES_CH_GYR_Z:
        return s->gyr_z_dps;
    case FES_CH_ACC_X:
        return s->acc_x_mps2;
    case FES_CH_ACC_Y:
        return s->acc_y_mps2;
    default:
        return s->footswitch;
    }
}

static double channel_limit(const fes_sensor_monitor_t *m, uint8_t ch)
{
    switch (ch) {
    case FES_CH_TILT:
        return m->cfg.tilt_range_deg;
    case FES_CH_GYR_Z:
        return m->cfg.gyro_range_dps;
    case FES_CH_ACC_X:
    case FES_CH_ACC_Y:
        return m->cfg.acc_range_mps2;
    default:
        return INFINITY;
    }
}

uint32_t fes_sensor_monitor_update(fes_sensor_monitor_t *m, const fes_sample_t *s)
{
    uint32_t bits = 0;
    double t = s->t_s;
    double tp = m->t_prev;
    if (!isfinite(t)) {
        bits = t == t ? FES_SENSOR_NONFINITE : FES_SENSOR_MISSING;
    } else {
        if (tp == tp) {
            double dt = t - tp;
            if (dt <= 0.0) {
                bits = FES_SENSOR_TIME_BACKWARDS;
            } else if (dt > m->max_gap_s) {
                bits = FES_SENSOR_TIME_GAP;
            }
        }
        m->t_prev = t; /* after a jump back, the new time line is the reference */
    }
    for (uint8_t i = 0; i < m->n_channels; ++i) {
        double v = channel_value(s, m->channels[i]);
        double limit = channel_limit(m, m->channels[i]);
        if (v != v) {
            bits |= FES_SENSOR_MISSING;
        } else if (!(-limit < v && v < limit)) {
            bits |= isfinite(v) ? FES_SENSOR_SATURATED : FES_SENSOR_NONFINITE;
        }
    }
    if (m->stuck_channel != 0u) {
        double v = channel_value(s, m->stuck_channel);
        if (v == m->last) {
            m->same++;
            if (m->same >= m->stuck_n) {
                bits |= FES_SENSOR_STUCK;
            }
        } else {
            m->same = 0;
            m->last = v;
        }
    }
    m->bits = bits;
    if (bits) {
        m->active |= bits;
        m->clean = 0;
    } else if (m->active) {
        m->clean++;
        if (m->clean >= m->recover_n) {
            m->active = 0;
        }
    }
    return m->active;
}
