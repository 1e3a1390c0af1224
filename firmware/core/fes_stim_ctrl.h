/* C port of fes_sim.control.controller.StimController (gait mode):
 * idle -> delay -> ramp_up -> on -> (heel strike) extension -> ramp_down -> idle,
 * with a forced ramp-down before the maximum on-time, a minimum off-time between
 * bursts, fixed or L300-style percent timing, and a sensor-fault ramp to zero
 * counted in samples. States are the FES_STATE_* numbers of the protocol.
 * Same rules and arithmetic as the Python reference, in double precision.
 * Manual, test-burst and exercise modes have no protocol message and are not
 * ported. */
#ifndef FES_STIM_CTRL_H
#define FES_STIM_CTRL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool enabled;            /* false: controller mode "off" (events only, no output) */
    bool percent_timing;     /* delay and extension as % of the running average stance */
    bool footswitch_detector;/* stance ends at heel-off rather than toe-off */
    double current_ma, pulse_width_us, frequency_hz;
    double ramp_up_ms, ramp_down_ms;
    double delay_ms, extension_ms, delay_pct, extension_pct;
    double max_on_time_s, min_off_time_ms, fault_ramp_down_ms;
    double adaptation_strides;
} fes_stim_ctrl_config_t;

typedef struct {
    fes_stim_ctrl_config_t cfg;
    double dt_s, max_gap_s, up_rate, down_rate, fault_step, on_limit_s, period_s, min_off_s;
    int32_t fault_samples, on_limit_n;
    uint32_t max_pulses; /* per sample period */
    /* state */
    uint8_t state;
    double envelope, current_ma;
    uint32_t pulses; /* pulses delivered in the latest sample period */
    bool max_on_flag;
    double t_prev, t_start, t_off, t_until;
    int32_t n_on;
    double next_pulse_t;
    bool pending; /* a heel-off waiting for the minimum off-time */
    double avg_stance_s, avg_swing_s, t_hs, t_to;
} fes_stim_ctrl_t;

void fes_stim_ctrl_init(fes_stim_ctrl_t *c, const fes_stim_ctrl_config_t *cfg, double sample_rate_hz, double max_gap_s);
void fes_stim_ctrl_reset(fes_stim_ctrl_t *c);
/* Advance one sample; returns the envelope (0..1) for the coming period. */
double fes_stim_ctrl_update(fes_stim_ctrl_t *c, double t_s, unsigned event, bool fault, bool abort);

#endif
