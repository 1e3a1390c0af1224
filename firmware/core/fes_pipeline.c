#include "fes_pipeline.h"

#include <math.h>

#include "fes_protocol.h"

void fes_pipeline_default_config(fes_pipeline_config_t *cfg)
{
    static const fes_pipeline_config_t zero;
    *cfg = zero;
#define FES_SET_DEFAULT(id, member, lo, hi, flags, def) cfg->member = (def);
    FES_PARAM_LIST(FES_SET_DEFAULT)
#undef FES_SET_DEFAULT
}

static fes_param_result_t check_param(double v, double lo, double hi, unsigned flags)
{
    if (!isfinite(v) || v < lo || v > hi || ((flags & FES_PARAM_LO_OPEN) && v <= lo) ||
        ((flags & FES_PARAM_CHOICE) && v != floor(v))) {
        return FES_PARAM_OUT_OF_RANGE;
    }
    return FES_PARAM_OK;
}

fes_param_result_t fes_pipeline_set_param(fes_pipeline_config_t *cfg, uint16_t param_id, double value)
{
    fes_param_result_t r;
    switch (param_id) {
#define FES_SET_PARAM_CASE(id, member, lo, hi, flags, def) \
    case id:                                                \
        r = check_param(value, lo, hi, flags);              \
        break;
        FES_PARAM_LIST(FES_SET_PARAM_CASE)
#undef FES_SET_PARAM_CASE
    default:
        return FES_PARAM_UNKNOWN;
    }
    if (r != FES_PARAM_OK) {
        return r;
    }
    if ((param_id == FES_PARAM_DETECTOR && value != FES_CHOICE_DETECTOR_TILT) ||
        (param_id == FES_PARAM_MODE && value == FES_CHOICE_MODE_EXERCISE)) {
        return FES_PARAM_UNSUPPORTED;
    }
    switch (param_id) {
#define FES_STORE_PARAM_CASE(id, member, lo, hi, flags, def) \
    case id:                                                  \
        cfg->member = value;                                  \
        break;
        FES_PARAM_LIST(FES_STORE_PARAM_CASE)
#undef FES_STORE_PARAM_CASE
    default:
        break;
    }
    return FES_PARAM_OK;
}

/* The controller's settings, as fes_sim.control.controller.StimController reads them. */
static void stim_ctrl_config(const fes_pipeline_config_t *cfg, fes_stim_ctrl_config_t *st)
{
    const fes_stimulation_config_t *s = &cfg->stimulation;
    st->enabled = cfg->mode == FES_CHOICE_MODE_GAIT;
    st->percent_timing = s->timing == FES_CHOICE_STIMULATION_TIMING_PERCENT;
    st->footswitch_detector = cfg->detector == FES_CHOICE_DETECTOR_FOOTSWITCH;
    st->current_ma = s->current_ma;
    st->pulse_width_us = s->pulse_width_us;
    st->frequency_hz = s->frequency_hz;
    st->ramp_up_ms = s->ramp_up_ms;
    st->ramp_down_ms = s->ramp_down_ms;
    st->delay_ms = s->delay_ms;
    st->extension_ms = s->extension_ms;
    st->delay_pct = s->delay_pct;
    st->extension_pct = s->extension_pct;
    st->max_on_time_s = s->max_on_time_s;
    st->min_off_time_ms = s->min_off_time_ms;
    st->fault_ramp_down_ms = cfg->faults.fault_ramp_down_ms;
    st->adaptation_strides = cfg->adaptation_strides;
}

static void configure_monitor(fes_pipeline_t *p)
{
    static const uint8_t tilt_channels[] = {FES_CH_TILT, FES_CH_GYR_Z}; /* the gyro when it gives the rate */
    static const uint8_t imu_channels[] = {FES_CH_GYR_Z, FES_CH_ACC_X, FES_CH_ACC_Y};
    if (!fes_tilt_est_decided(&p->est)) {
        fes_sensor_monitor_configure(&p->mon, tilt_channels, 0u);
    } else if (p->est.use_tilt) {
        fes_sensor_monitor_configure(&p->mon, tilt_channels, p->est.rate_from_gyro == 1 ? 2u : 1u);
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
    fes_stim_ctrl_config_t st;
    stim_ctrl_config(cfg, &st);
    fes_stim_ctrl_init(&p->ctrl, &st, sample_rate_hz, cfg->faults.max_gap_ms * 1e-3);
    fes_pipeline_reset(p);
}

void fes_pipeline_reset(fes_pipeline_t *p)
{
    fes_tilt_est_reset(&p->est);
    fes_tilt_trigger_reset(&p->det);
    fes_sensor_monitor_reset(&p->mon);
    configure_monitor(p);
    p->undecided = !fes_tilt_est_decided(&p->est);
    fes_stim_ctrl_reset(&p->ctrl);
    p->interrupted = false;
}

void fes_pipeline_update(fes_pipeline_t *p, const fes_sample_t *s, fes_pipeline_out_t *out)
{
    if (p->undecided) {
        fes_tilt_est_choose_input(&p->est, s);
        if (fes_tilt_est_decided(&p->est)) {
            p->undecided = false;
            configure_monitor(p);
        }
    }
    uint32_t fault = fes_sensor_monitor_update(&p->mon, s);
    /* a sample with a fault of its own never reaches the estimator */
    double tilt = p->mon.bits ? NAN : fes_tilt_est_update(&p->est, s);
    if (p->undecided) {
        fault |= FES_SENSOR_MISSING;
    }
    unsigned event = FES_EVENT_NONE;
    if (fault) {
        if (!p->interrupted) {
            fes_tilt_trigger_interrupt(&p->det);
            fes_tilt_est_restart(&p->est);
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
