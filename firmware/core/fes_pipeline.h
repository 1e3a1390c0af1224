/* C port of fes_sim.device.DevicePipeline for the tilt detector: estimator ->
 * sensor monitor -> tilt trigger -> stimulation controller, one sample at a
 * time, with the same wiring (a sensor fault interrupts the detector once and
 * ramps the output down).
 *
 * fes_pipeline_config_t mirrors fes_sim.control.config.ControllerConfig member
 * for member (dotted keys), so the generated FES_PARAM_LIST of SET_PARAM sets
 * it and gives its defaults; a Literal setting is held as the double index of
 * its choice (FES_CHOICE_*). */
#ifndef FES_PIPELINE_H
#define FES_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "fes_sample.h"
#include "fes_sensor_monitor.h"
#include "fes_stim_ctrl.h"
#include "fes_tilt_est.h"
#include "fes_tilt_trigger.h"

/* fes_sim.control.config.StimulationConfig: SET_PARAM fields, then SET_CONFIG fields */
typedef struct {
    double timing, delay_ms, delay_pct, extension_pct, max_on_time_s, min_off_time_ms;
    double current_ma, pulse_width_us, frequency_hz, ramp_up_ms, ramp_down_ms, extension_ms;
} fes_stimulation_config_t;

typedef struct {
    double detector, mode, adaptation_strides;
    fes_tilt_est_config_t estimator;
    fes_tilt_trigger_config_t tilt;
    fes_stimulation_config_t stimulation;
    fes_sensor_monitor_config_t faults;
} fes_pipeline_config_t;

/* Result of fes_pipeline_set_param */
typedef enum {
    FES_PARAM_OK = 0,
    FES_PARAM_UNKNOWN,     /* no such parameter id */
    FES_PARAM_OUT_OF_RANGE,/* not finite, outside the range, or not a whole choice index */
    FES_PARAM_UNSUPPORTED  /* a valid choice this firmware does not run (gyro/footswitch, exercise) */
} fes_param_result_t;

typedef struct {
    double tilt_est_deg;
    unsigned event;   /* FES_EVENT_* */
    uint8_t state;    /* FES_STATE_* */
    double envelope;  /* 0..1 */
    double current_ma;
    uint32_t pulses;  /* delivered in this sample period */
    uint32_t sensor_faults; /* FES_SENSOR_* bits */
    bool max_on_time; /* the controller forced a ramp-down at its maximum on-time */
} fes_pipeline_out_t;

typedef struct {
    fes_pipeline_config_t cfg;
    fes_tilt_est_t est;
    fes_sensor_monitor_t mon;
    fes_tilt_trigger_t det;
    fes_stim_ctrl_t ctrl;
    bool undecided;
    bool interrupted; /* the detector has been interrupted by the sensor fault in force */
} fes_pipeline_t;

/* The Python defaults (ControllerConfig() = preset "walkaide_tilt"), from the generated table;
 * the SET_CONFIG fields are zero. */
void fes_pipeline_default_config(fes_pipeline_config_t *cfg);
/* Check one SET_PARAM value and store it in cfg (only when FES_PARAM_OK). */
fes_param_result_t fes_pipeline_set_param(fes_pipeline_config_t *cfg, uint16_t param_id, double value);
void fes_pipeline_init(fes_pipeline_t *p, const fes_pipeline_config_t *cfg, double sample_rate_hz);
void fes_pipeline_reset(fes_pipeline_t *p);
void fes_pipeline_update(fes_pipeline_t *p, const fes_sample_t *s, fes_pipeline_out_t *out);

#endif
