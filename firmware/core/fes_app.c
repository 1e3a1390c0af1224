/* TEMPORARY bring-up echo */
#include "fes_app.h"
#include "fes_port.h"
void fes_app_init(void) {}
void fes_app_poll(void)
{
    uint8_t buf[64];
    size_t n = fes_port_uart_read(buf, sizeof buf);
    if (n > 0u) {
        (void)fes_port_uart_write(buf, n);
    }
}
