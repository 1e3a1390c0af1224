/* The porting layer: the only functions the portable core calls that touch
 * hardware. A new board implements every function below (see docs/firmware.md
 * for the timing each one must meet). The core never includes a vendor header. */
#ifndef FES_PORT_H
#define FES_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stimulation output command, already checked against the safety limits.
 * Current and width are rounded down to the unit (never above the checked value);
 * the rate is rounded to the nearest mHz, never above the maximum rate in force. */
typedef struct {
    uint32_t current_ua;      /* pulse amplitude, µA (0 = no output) */
    uint32_t frequency_mhz;   /* pulse rate, mHz (33.3 Hz = 33300) */
    uint16_t pulse_width_us;  /* phase width, µs */
} fes_port_stim_t;

/* One shank sensor reading in the frame of fes_sim/samples.py. */
typedef struct {
    float acc_mps2[3];
    float gyr_dps[3];
    float tilt_deg;     /* NAN when the sensor has no tilt output */
    uint8_t footswitch; /* 0 = heel off, 1 = heel loaded, 0xFF = no switch */
} fes_port_sensor_t;

/* Bring up clocks, the timebase, the UART and the stimulator output (off). */
void fes_port_init(void);

/* Monotonic device time in µs since fes_port_init(). Never goes backwards,
 * resolution <= 10 µs, callable from thread mode. */
uint64_t fes_port_time_us(void);

/* Copy up to `cap` received bytes into `buf`; never blocks. Returns the count.
 * Bytes must be buffered (interrupt or DMA) so that none is lost while the
 * main loop runs one iteration (see docs/firmware.md). */
size_t fes_port_uart_read(uint8_t *buf, size_t cap);

/* Free space in the transmit queue, bytes. */
size_t fes_port_uart_tx_free(void);

/* Queue `len` bytes for transmission; never blocks. The caller checks
 * fes_port_uart_tx_free() first, so a frame is queued whole or not at all.
 * Returns false (and queues nothing) when the queue lacks room. */
bool fes_port_uart_write(const uint8_t *buf, size_t len);

/* Drive the output stage. `out->current_ua == 0` means no pulses.
 * Must take effect within one pulse period. */
void fes_port_stim_apply(const fes_port_stim_t *out);

/* Stop all stimulation now: safe from any context, including fault handlers,
 * and must not depend on the main loop running. */
void fes_port_stim_off(void);

/* Read the on-board shank sensor (host-in-the-loop mode). Returns false when
 * no new reading is available. */
bool fes_port_sensor_read(uint64_t t_us, fes_port_sensor_t *out);

/* A 32-bit identifier of this board (serial number or hash of the chip id). */
uint32_t fes_port_device_id(void);

/* Sleep until the next interrupt (or return at once). */
void fes_port_idle(void);

#endif
