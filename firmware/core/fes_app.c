#include "fes_app.h"

#include "fes_device.h"
#include "fes_port.h"

static fes_device_t s_dev;

void fes_app_init(void)
{
    fes_device_init(&s_dev, fes_port_time_us());
}

void fes_app_poll(void)
{
    uint8_t buf[64];
    size_t n;
    while ((n = fes_port_uart_read(buf, sizeof buf)) > 0u) {
        for (size_t i = 0; i < n; ++i) {
            fes_device_rx_byte(&s_dev, buf[i], fes_port_time_us());
        }
        fes_device_tick(&s_dev, fes_port_time_us());
    }
    fes_device_tick(&s_dev, fes_port_time_us());
}
