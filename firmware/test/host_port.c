/* A fake board for host tests: a settable clock, a captured transmit buffer
 * and a recorded stimulator output. */
#include "host_port.h"

static uint64_t s_now_us;
static uint8_t s_tx[1u << 16];
static size_t s_tx_len;
static fes_port_stim_t s_stim;

void host_port_set_time(uint64_t t_us) { s_now_us = t_us; }

size_t host_port_take_tx(uint8_t *dst, size_t cap)
{
    size_t n = s_tx_len < cap ? s_tx_len : cap;
    for (size_t i = 0; i < n; ++i) {
        dst[i] = s_tx[i];
    }
    s_tx_len = 0;
    return n;
}

const fes_port_stim_t *host_port_stim(void) { return &s_stim; }

void fes_port_init(void) { s_tx_len = 0; }

uint64_t fes_port_time_us(void) { return s_now_us; }

size_t fes_port_uart_read(uint8_t *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return 0;
}

size_t fes_port_uart_tx_free(void) { return sizeof s_tx - s_tx_len; }

bool fes_port_uart_write(const uint8_t *buf, size_t len)
{
    if (sizeof s_tx - s_tx_len < len) {
        return false;
    }
    for (size_t i = 0; i < len; ++i) {
        s_tx[s_tx_len++] = buf[i];
    }
    return true;
}

void fes_port_stim_apply(const fes_port_stim_t *out) { s_stim = *out; }

void fes_port_stim_off(void) { s_stim.current_ua = 0; }

bool fes_port_sensor_read(uint64_t t_us, fes_port_sensor_t *out)
{
    for (int i = 0; i < 3; ++i) {
        out->acc_mps2[i] = 0.0f;
        out->gyr_dps[i] = 0.0f;
    }
    out->acc_mps2[0] = 9.80665f;
    out->tilt_deg = (float)(t_us % 1000u) * 0.01f;
    out->footswitch = 1;
    return true;
}

uint32_t fes_port_device_id(void) { return 0x484F5354u; }

void fes_port_idle(void) {}
