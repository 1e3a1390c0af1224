/* C port of fes_sim.detection.tilt_trigger.TiltTriggerDetector: WalkAide-like
 * tilt trigger (Dai et al. 1996) with adaptive thresholds; heel-off, toe-off
 * and heel strike from the shank tilt and its rate. Same rules, order of
 * operations and arithmetic as the Python reference, in double precision. */
#ifndef FES_TILT_TRIGGER_H
#define FES_TILT_TRIGGER_H

#include <stdbool.h>

#include "fes_preswing.h"
#include "fes_protocol.h"

/* fes_sim.control.config.TiltTriggerConfig, field for field */
typedef struct {
    double heel_off_tilt_deg, heel_off_fraction, heel_off_rate_dps, heel_off_rate_fraction;
    double initial_peak_rate_dps, swing_recovery_rate_dps, heel_off_rate_smoothing_ms, hysteresis_deg;
    double min_tilt_range_deg, toe_off_rise_fraction, toe_off_symmetry, toe_off_lag_ms, toe_off_drop_fraction, toe_off_rate_fraction;
    double toe_off_min_level, toe_off_rebound_fraction;
    double min_swing_rate_dps, heel_strike_lag_ms, heel_strike_rise_deg;
    double min_stance_ms, min_swing_ms, min_push_off_ms, max_push_off_ms, max_swing_ms;
    double still_rate_dps, still_ms;
} fes_tilt_trigger_config_t;

typedef enum { FES_PHASE_STANCE = 0, FES_PHASE_PUSH_OFF, FES_PHASE_SWING } fes_gait_phase_t;

typedef struct {
    fes_tilt_trigger_config_t cfg;
    double adapt_per_deg, min_stance_s, min_swing_s, min_push_s, max_push_s, max_swing_s, lag_s, ho_tau_s, still_s;
    fes_gait_phase_t phase;
    bool aborted; /* true on the one sample where a heel-off was withdrawn */
    double threshold_deg, low_deg, high_deg;
    double t_prev, prev_tilt, t_heel_strike, t_heel_off, t_toe_off;
    fes_preswing_t peak; /* the pre-swing rate peak and the toe-off it implies */
    double peak_rate_follower, stride_max_rate, ho_rate;
    double t_moving; /* last sample with the shank turning at least still_rate_dps */
    double stride_low_deg, stride_high_deg; /* tilt extremes since the last heel strike */
    unsigned strides_seen;                  /* confirmed heel strikes since reset */
    double min_tilt, t_min;
    bool swing_armed, ho_armed;
} fes_tilt_trigger_t;

/* Shank rotation per stride of Winter's walker (up and down its 75 deg range). */
#define FES_DEG_PER_STRIDE 150.0
/* Strides before the learnt tilt range gates toe-off (tilt_trigger.LEARNING_STRIDES). */
#define FES_LEARNING_STRIDES 2u

void fes_tilt_trigger_init(fes_tilt_trigger_t *d, const fes_tilt_trigger_config_t *cfg, double adaptation_strides);
/* Back to stance with the configured initial threshold. */
void fes_tilt_trigger_reset(fes_tilt_trigger_t *d);
/* Forget the stride in progress (after a sensor fault), keep the learnt thresholds. */
void fes_tilt_trigger_interrupt(fes_tilt_trigger_t *d);
/* One sample; returns FES_EVENT_NONE or the event detected at it. */
unsigned fes_tilt_trigger_update(fes_tilt_trigger_t *d, double t_s, double tilt_deg, double rate_dps);

#endif
