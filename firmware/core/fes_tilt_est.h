/* C port of fes_sim.detection.estimator.TiltEstimator: a gated complementary
 * filter in the vector form of Mahony et al. 2008 (the gyro prediction corrected
 * by the forward specific force seen with it; REFERENCE section 6), or a ready
 * tilt channel with the gyro (or a smoothed difference) as rate. Same
 * arithmetic, in double precision. */
#ifndef FES_TILT_EST_H
#define FES_TILT_EST_H

#include <stdbool.h>
#include <stdint.h>

#include "fes_protocol.h"
#include "fes_sample.h"

/* fes_sim.control.config.EstimatorConfig, field for field */
typedef struct {
    double source;             /* FES_CHOICE_ESTIMATOR_SOURCE_{AUTO,TILT,IMU} */
    double tau_s;              /* complementary filter time constant */
    double acc_gate_g;         /* freeze the accelerometer when | |f| - g | exceeds this */
    double rate_smoothing_ms;  /* smoothing of a rate differentiated from the tilt channel */
} fes_tilt_est_config_t;

typedef struct {
    fes_tilt_est_config_t cfg;
    double dt_s, alpha, gain_deg, rate_alpha, gate_mps2;
    int use_tilt;       /* -1 undecided, 0 IMU, 1 tilt channel */
    int rate_from_gyro; /* -1 undecided, 0 differentiate tilt, 1 gyro */
    double tilt_deg, rate_dps, prev_tilt;
    uint32_t n_corrections; /* start-up gain counter, 0 once the filter's own gain is reached */
} fes_tilt_est_t;

void fes_tilt_est_init(fes_tilt_est_t *e, const fes_tilt_est_config_t *cfg, double sample_rate_hz);
void fes_tilt_est_reset(fes_tilt_est_t *e);
/* Forget the estimate, keep the input choice (after a sensor fault). */
void fes_tilt_est_restart(fes_tilt_est_t *e);
/* Settle source "auto" on the first sample with a usable input, and with a tilt channel
 * whether the rate comes from the gyro; returns use_tilt. */
int fes_tilt_est_choose_input(fes_tilt_est_t *e, const fes_sample_t *s);
/* True once the inputs are chosen (tilt channel or IMU, and the tilt rate's source). */
bool fes_tilt_est_decided(const fes_tilt_est_t *e);
/* One sample; returns the tilt estimate in degrees (NaN without input). A non-finite
 * gyro or accelerometer reading leaves the state as it was; the estimate stays within
 * (-180, 180] degrees. */
double fes_tilt_est_update(fes_tilt_est_t *e, const fes_sample_t *s);

#endif
