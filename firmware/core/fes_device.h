/* The device side of the protocol (docs/protocol.md): session, duplicate
 * filter, limits and NAKs, command-mode envelope with ramps, host-in-the-loop
 * sample streaming, device-in-the-loop pipeline, heartbeat watchdog, faults,
 * time sync and status. Hardware is reached only through fes_port.h; time is
 * passed in, so the same code runs on the host under sanitizers. */
#ifndef FES_DEVICE_H
#define FES_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "fes_frame.h"
#include "fes_msg.h"
#include "fes_pipeline.h"

#define FES_FIRMWARE_VERSION 0x0100u
#define FES_HW_MAX_CURRENT_MA 120.0f
#define FES_HW_MAX_PULSE_WIDTH_US 500.0f
#define FES_HW_MIN_FREQUENCY_HZ 1.0f
#define FES_HW_MAX_FREQUENCY_HZ 150.0f
#define FES_HW_MAX_CHARGE_UC 50.0f
#define FES_HW_CHANNELS 1u
#define FES_HW_MAX_ON_MS 10000u /* longest continuous stimulation SET_LIMITS may allow */
#define FES_NATIVE_SAMPLE_RATE_HZ 1000u

typedef struct {
    float max_current_ma, max_pulse_width_us, min_frequency_hz, max_frequency_hz, max_charge_uc;
    uint32_t max_on_ms;
    uint16_t watchdog_ms;
} fes_limits_t;

typedef struct {
    float current_ma, pulse_width_us, frequency_hz;
    uint16_t ramp_up_ms, ramp_down_ms, extension_ms;
} fes_stim_config_t;

typedef struct {
    fes_frame_decoder_t rx;
    uint64_t now_us;
    uint16_t tx_seq;
    uint32_t tx_dropped; /* frames not queued for lack of transmit space */
    /* session and duplicate filter */
    bool session;
    uint64_t last_rx_us;
    bool have_host_seq;
    uint16_t host_seq;
    bool have_cmd;
    fes_msg_t cmd_req; /* the last command, to recognise its retransmission */
    fes_msg_t cmd_answer;
    /* counters since HELLO */
    uint32_t rx_frames, rx_errors, pulses;
    float charge_uc;
    double pulse_phase;
    /* configuration */
    fes_limits_t limits;
    fes_stim_config_t cfg;
    bool configured;
    fes_pipeline_config_t params; /* SET_PARAM settings of the device's controller */
    uint8_t mode;
    uint16_t sample_rate_hz;
    uint16_t faults;
    /* output */
    uint8_t state;
    float envelope;
    uint64_t out_on_since_us;
    uint64_t out_tick_us;
    /* command-mode envelope ramp */
    float ramp_from, ramp_to;
    uint64_t ramp_t0_us;
    uint32_t ramp_us;
    bool stop_armed;
    uint64_t stop_at_us;
    /* host loop */
    uint32_t sample_index;
    uint64_t stream_t0_us;
    uint32_t stream_k;
    /* device loop */
    fes_pipeline_t pipe;
    bool have_host_t;
    uint32_t host_t_last_us;
    uint64_t host_t_us;
} fes_device_t;

void fes_device_init(fes_device_t *dev, uint64_t now_us);
/* One received byte at device time now_us. */
void fes_device_rx_byte(fes_device_t *dev, uint8_t byte, uint64_t now_us);
/* Time-driven work (watchdog, ramps, on-time, streaming); call at least every 1 ms. */
void fes_device_tick(fes_device_t *dev, uint64_t now_us);

#endif
