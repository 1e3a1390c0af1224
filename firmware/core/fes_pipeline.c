#include "fes_pipeline.h"

#include "fes_protocol.h"

void fes_pipeline_default_config(fes_pipeline_config_t *cfg)
{
    /* fes_sim/control/config.py defaults; keep in step (tests compare outputs) */
    cfg->adaptation_strides = 8.0;
    cfg->estimator.source = FES_EST_AUTO;
    cfg->estimator.tau_s = 1.0;
    cfg->estimator.acc_gate_g = 0.15;
    cfg->estimator.rate_smoothing_ms = 10.0;
    cfg->tilt.heel_off_tilt_deg = 15.0;
    cfg->tilt.heel_off_fraction = 0.5;
    cfg->tilt.heel_off_rate_dps = 10.0;
    cfg->tilt.heel_off_rate_fraction = 0.2;
    cfg->tilt.initial_peak_rate_dps = 150.0;
    cfg->tilt.swing_recovery_rate_dps = 100.0;
    cfg->tilt.heel_off_rate_smoothing_ms = 25.0;
    cfg->tilt.hysteresis_deg = 5.0;
    cfg->tilt.min_tilt_range_deg = 10.0;
    cfg->tilt.toe_off_rate_fraction = 0.7;
    cfg->tilt.toe_off_lag_ms = 25.0;
    cfg->tilt.toe_off_lag_fraction = 0.95;
    cfg->tilt.toe_off_min_level = 0.8;
    cfg->tilt.min_swing_rate_dps = 40.0;
    cfg->tilt.heel_strike_lag_ms = 30.0;
    cfg->tilt.heel_strike_rise_deg = 0.5;
    cfg->tilt.min_stance_ms = 200.0;
    cfg->tilt.min_swing_ms = 150.0;
    cfg->tilt.min_push_off_ms = 50.0;
    cfg->tilt.max_push_off_ms = 800.0;
    cfg->tilt.max_swing_ms = 1500.0;
    cfg->faults.max_gap_ms = 50.0;
    cfg->faults.stuck_ms = 1000.0;
    cfg->faults.tilt_range_deg = 90.0;
    cfg->faults.gyro_range_dps = 2000.0;
    cfg->faults.acc_range_mps2 = 156.9;
    cfg->faults.recover_ms = 500.0;
    fes_stim_ctrl_config_t *st = &cfg->stimulation;
    st->enabled = true;
    st->percent_timing = false;
    st->footswitch_detector = false;
    st->current_ma = 30.0;
    st->pulse_width_us = 250.0;
    st->frequency_hz = 40.0;
    st->ramp_up_ms = 80.0;
    st->ramp_down_ms = 80.0;
    st->delay_ms = 0.0;
    st->extension_ms = 100.0;
    st->delay_pct = 0.0;
    st->extension_pct = 15.0;
    st->max_on_time_s = 2.0;
    st->min_off_time_ms = 150.0;
    st->fault_ramp_down_ms = 50.0;
    st->adaptation_strides = cfg->adaptation_strides;
}

static void configure_monitor(fes_pipeline_t *p)
{
    static const uint8_t tilt_channels[] = {FES_CH_TILT};
    static const uint8_t imu_channels[] = {FES_CH_GYR_Z, FES_CH_ACC_X, FES_CH_ACC_Y};
    if (p->est.use_tilt < 0) {
        fes_sensor_monitor_configure(&p->mon, tilt_channels, 0u);
    } else if (p->est.use_tilt) {
        fes_sensor_monitor_configure(&p->mon, tilt_channels, 1u);
    } else {
        fes_sensor_monitor_configure(&p->mon, imu_channels, 3u);
    }
}

void fes_pipeline_init(fes_pipeline_t *p, const fes_pipeline_config_t *cfg, double sample_rate_hz)
{
    p->cfg = *cfg;
    fes_tilt_est_init(&p->est, &cfg->estimator, sample_rate_hz);
    fes_tilt_trigger_init(&p->det, &cfg->tilt, cfg->adaptation_strides);
    fes_sensor_monitor_init(&p->mon, &cfg->faults, sample_rate_hz);
    fes_stim_ctrl_init(&p->ctrl, &cfg->stimulation, sample_rate_hz, cfg->faults.max_gap_ms * 1e-3);
    fes_pipeline_reset(p);
}

void fes_pipeline_reset(fes_pipeline_t *p)
{
    fes_tilt_est_reset(&p->est);
    fes_tilt_trigger_reset(&p->det);
    fes_sensor_monitor_reset(&p->mon);
    configure_monitor(p);
    p->undecided = p->est.use_tilt < 0;
    fes_stim_ctrl_reset(&p->ctrl);
    p->interrupted = false;
}

void fes_pipeline_update(fes_pipeline_t *p, const fes_sample_t *s, fes_pipeline_out_t *out)
{
    double tilt = fes_tilt_est_update(&p->est, s);
    if (p->undecided && p->est.use_tilt >= 0) {
        p->undecided = false;
        configure_monitor(p);
    }
    uint32_t fault = fes_sensor_monitor_update(&p->mon, s);
    if (p->undecided) {
        fault |= FES_SENSOR_MISSING;
    }
    unsigned event = FES_EVENT_NONE;
    if (fault) {
        if (!p->interrupted) {
            fes_tilt_trigger_interrupt(&p->det);
            p->interrupted = true;
        }
    } else {
        p->interrupted = false;
        event = fes_tilt_trigger_update(&p->det, s->t_s, tilt, p->est.rate_dps);
    }
    fes_stim_ctrl_update(&p->ctrl, s->t_s, event, fault != 0u, p->det.aborted);
    out->tilt_est_deg = tilt;
    out->event = event;
    out->state = p->ctrl.state;
    out->envelope = p->ctrl.envelope;
    out->current_ma = p->ctrl.current_ma;
    out->pulses = p->ctrl.pulses;
    out->sensor_faults = fault;
    out->max_on_time = p->ctrl.max_on_flag;
}
