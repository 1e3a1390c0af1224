#include "fes_ring.h"

void fes_ring_init(fes_ring_t *r, uint8_t *mem, size_t cap)
{
    r->mem = mem;
    r->cap = cap;
    r->head = 0;
    r->count = 0;
}

size_t fes_ring_free(const fes_ring_t *r)
{
    return r->cap - r->count;
}

size_t fes_ring_put(fes_ring_t *r, const uint8_t *src, size_t len)
{
    size_t n = 0;
    while (n < len && r->count < r->cap) {
        r->mem[r->head] = src[n++];
        r->head = (r->head + 1u) % r->cap;
        r->count++;
    }
    return n;
}

size_t fes_ring_get(fes_ring_t *r, uint8_t *dst, size_t cap)
{
    size_t n = 0;
    size_t tail = (r->head + r->cap - r->count) % r->cap;
    while (n < cap && r->count > 0u) {
        dst[n++] = r->mem[tail];
        tail = (tail + 1u) % r->cap;
        r->count--;
    }
    return n;
}
