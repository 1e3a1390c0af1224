/* C port of fes_sim.device.DevicePipeline for the tilt detector: estimator ->
 * sensor monitor -> tilt trigger -> stimulation controller, one sample at a
 * time, with the same wiring (a sensor fault interrupts the detector and ramps the
 * output down; the detector is interrupted once per fault). The default configuration is the Python preset "walkaide_tilt". */
#ifndef FES_PIPELINE_H
#define FES_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "fes_sample.h"
#include "fes_sensor_monitor.h"
#include "fes_stim_ctrl.h"
#include "fes_tilt_est.h"
#include "fes_tilt_trigger.h"

typedef struct {
    fes_tilt_est_config_t estimator;
    fes_tilt_trigger_config_t tilt;
    fes_sensor_monitor_config_t faults;
    fes_stim_ctrl_config_t stimulation;
    double adaptation_strides;
} fes_pipeline_config_t;

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

/* The Python defaults (ControllerConfig() = preset "walkaide_tilt"). */
void fes_pipeline_default_config(fes_pipeline_config_t *cfg);
void fes_pipeline_init(fes_pipeline_t *p, const fes_pipeline_config_t *cfg, double sample_rate_hz);
void fes_pipeline_reset(fes_pipeline_t *p);
void fes_pipeline_update(fes_pipeline_t *p, const fes_sample_t *s, fes_pipeline_out_t *out);

#endif
