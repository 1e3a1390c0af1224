/* C port of fes_sim.detection.faults.SensorMonitor: missing, non-finite,
 * stuck or saturated input and broken time; a fault stays active until the
 * input has been valid for recover_ms (counted in samples). */
#ifndef FES_SENSOR_MONITOR_H
#define FES_SENSOR_MONITOR_H

#include <stdint.h>

#include "fes_sample.h"

/* Fault bits, as in fes_sim/detection/faults.py */
#define FES_SENSOR_MISSING 1u
#define FES_SENSOR_NONFINITE 2u
#define FES_SENSOR_STUCK 4u
#define FES_SENSOR_SATURATED 8u
#define FES_SENSOR_TIME_GAP 16u
#define FES_SENSOR_TIME_BACKWARDS 32u

/* Channels a detector depends on (bit mask) */
#define FES_CH_TILT 0x01u
#define FES_CH_GYR_Z 0x02u
#define FES_CH_ACC_X 0x04u
#define FES_CH_ACC_Y 0x08u
#define FES_CH_FOOTSWITCH 0x10u

/* fes_sim.control.config.SensorFaultConfig, field for field (fault_ramp_down_ms is the controller's) */
typedef struct {
    double max_gap_ms, stuck_ms, tilt_range_deg, gyro_range_dps, acc_range_mps2, fault_ramp_down_ms, recover_ms;
} fes_sensor_monitor_config_t;

typedef struct {
    fes_sensor_monitor_config_t cfg;
    double max_gap_s;
    uint32_t stuck_n, recover_n;
    uint8_t channels[4]; /* FES_CH_* in check order */
    uint8_t n_channels;
    uint8_t stuck_channel; /* 0: none */
    double t_prev, last;
    uint32_t bits, active, same, clean;
} fes_sensor_monitor_t;

void fes_sensor_monitor_init(fes_sensor_monitor_t *m, const fes_sensor_monitor_config_t *cfg, double sample_rate_hz);
void fes_sensor_monitor_reset(fes_sensor_monitor_t *m);
/* Check these channels from now on, in this order (the first one also for being stuck). */
void fes_sensor_monitor_configure(fes_sensor_monitor_t *m, const uint8_t *channels, uint8_t n);
/* Check one sample; returns the active fault bits (0 when healthy). */
uint32_t fes_sensor_monitor_update(fes_sensor_monitor_t *m, const fes_sample_t *s);

#endif
