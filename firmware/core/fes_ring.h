/* Byte ring buffer over caller-provided storage (no dynamic memory).
 * Single producer, single consumer; callers serialise access (the port masks
 * the UART interrupt around the thread-mode side). */
#ifndef FES_RING_H
#define FES_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *mem;
    size_t cap;
    size_t head; /* next write */
    size_t count;
} fes_ring_t;

void fes_ring_init(fes_ring_t *r, uint8_t *mem, size_t cap);
size_t fes_ring_free(const fes_ring_t *r);
/* Append up to `len` bytes; returns how many fitted. */
size_t fes_ring_put(fes_ring_t *r, const uint8_t *src, size_t len);
/* Remove up to `cap` bytes into `dst`; returns how many. */
size_t fes_ring_get(fes_ring_t *r, uint8_t *dst, size_t cap);

#endif
