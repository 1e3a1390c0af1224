/* The emulated board has no IMU: this synthesises the shank sensor of a
 * steadily walking healthy adult from Winter's (2009, Appendix A) shank tilt,
 * so that host-in-the-loop mode has something real-looking to stream. */
#ifndef MPS2_SENSOR_H
#define MPS2_SENSOR_H

#include <stdint.h>

#include "fes_port.h"

void mps2_sensor_sample(uint64_t t_us, fes_port_sensor_t *out);

#endif
