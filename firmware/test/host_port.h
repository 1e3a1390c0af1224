#ifndef HOST_PORT_H
#define HOST_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "fes_port.h"

void host_port_set_time(uint64_t t_us);
size_t host_port_take_tx(uint8_t *dst, size_t cap);
const fes_port_stim_t *host_port_stim(void); /* the output stage's last command (current 0 = off) */

#endif
