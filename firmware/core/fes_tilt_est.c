#include "fes_tilt_est.h"

#include <math.h>

#define PI 3.14159265358979323846
#define RAD_TO_DEG (180.0 / PI)
#define DEG_TO_RAD (PI / 180.0)
#define START_GAIN_DEG (RAD_TO_DEG / FES_GRAVITY_MPS2) /* correction per unit h for a gain of 1 */

void fes_tilt_est_init(fes_tilt_est_t *e, const fes_tilt_est_config_t *cfg, double sample_rate_hz)
{
    e->cfg = *cfg;
    e->dt_s = 1.0 / sample_rate_hz;
    e->alpha = cfg->tau_s / (cfg->tau_s + e->dt_s);
    /* correction per unit of forward specific force, in degrees per (m/s^2) */
    e->gain_deg = (1.0 - e->alpha) * RAD_TO_DEG / FES_GRAVITY_MPS2;
    e->rate_alpha = e->dt_s / (cfg->rate_smoothing_ms * 1e-3 + e->dt_s);
    e->gate_mps2 = cfg->acc_gate_g * FES_GRAVITY_MPS2;
    fes_tilt_est_reset(e);
}

void fes_tilt_est_reset(fes_tilt_est_t *e)
{
    e->use_tilt = e->cfg.source == FES_CHOICE_ESTIMATOR_SOURCE_AUTO ? -1 : (e->cfg.source == FES_CHOICE_ESTIMATOR_SOURCE_TILT ? 1 : 0);
    e->rate_from_gyro = -1;
    fes_tilt_est_restart(e);
}

void fes_tilt_est_restart(fes_tilt_est_t *e)
{
    e->tilt_deg = NAN;
    e->rate_dps = NAN;
    e->prev_tilt = NAN;
    e->n_corrections = 1; /* start-up gain 1/(n + 1) while it exceeds the filter's own */
}

int fes_tilt_est_choose_input(fes_tilt_est_t *e, const fes_sample_t *s)
{
    if (e->use_tilt < 0) {
        if (isfinite(s->tilt_deg)) {
            e->use_tilt = 1;
        } else if (isfinite(s->acc_x_mps2) && isfinite(s->gyr_z_dps)) {
            e->use_tilt = 0;
        }
    }
    if (e->use_tilt == 1 && e->rate_from_gyro < 0 && isfinite(s->tilt_deg)) {
        e->rate_from_gyro = isfinite(s->gyr_z_dps) ? 1 : 0;
    }
    return e->use_tilt;
}

bool fes_tilt_est_decided(const fes_tilt_est_t *e)
{
    return e->use_tilt == 0 || (e->use_tilt == 1 && e->rate_from_gyro >= 0);
}

double fes_tilt_est_update(fes_tilt_est_t *e, const fes_sample_t *s)
{
    if (fes_tilt_est_choose_input(e, s) < 0) {
        return NAN;
    }
    if (e->use_tilt) {
        double tilt = s->tilt_deg;
        if (e->rate_from_gyro == 1) {
            e->rate_dps = s->gyr_z_dps;
        } else {
            double prev = e->prev_tilt;
            if (prev == prev) {
                double raw = (tilt - prev) / e->dt_s;
                double rate = e->rate_dps;
                e->rate_dps = rate != rate ? raw : rate + e->rate_alpha * (raw - rate);
            }
            e->prev_tilt = tilt;
        }
        e->tilt_deg = tilt;
        return tilt;
    }
    double gz = s->gyr_z_dps;
    double fx = s->acc_x_mps2;
    double fy = s->acc_y_mps2;
    if (!(isfinite(gz) && isfinite(fx) && isfinite(fy))) {
        return NAN;
    }
    e->rate_dps = gz;
    double prev = e->tilt_deg;
    if (prev != prev) {
        e->tilt_deg = atan2(-fy, fx) * RAD_TO_DEG;
        return e->tilt_deg;
    }
    double pred = prev + gz * e->dt_s;
    if (!(pred > -180.0 && pred <= 180.0)) {
        double w = fmod(pred + 180.0, 360.0);
        pred = (w <= 0.0 ? w + 360.0 : w) - 180.0;
    }
    double fz = isfinite(s->acc_z_mps2) ? s->acc_z_mps2 : 0.0;
    double norm = sqrt(fx * fx + fy * fy + fz * fz);
    if (fabs(norm - FES_GRAVITY_MPS2) <= e->gate_mps2) {
        double r = pred * DEG_TO_RAD;
        double gain = e->gain_deg;
        uint32_t n = e->n_corrections;
        if (n) {
            n += 1u;
            if (START_GAIN_DEG / (double)n > gain) {
                gain = START_GAIN_DEG / (double)n;
                e->n_corrections = n;
            } else {
                e->n_corrections = 0;
            }
        }
        pred -= gain * (fx * sin(r) + fy * cos(r));
    }
    e->tilt_deg = pred;
    return pred;
}
