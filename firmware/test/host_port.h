#ifndef HOST_PORT_H
#define HOST_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "fes_port.h"

void host_port_set_time(uint64_t t_us);
size_t host_port_take_tx(uint8_t *dst, size_t cap);
uint16_t host_port_current_ua(void);

#endif
