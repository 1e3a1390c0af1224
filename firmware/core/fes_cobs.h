/* Consistent Overhead Byte Stuffing (Cheshire & Baker 1999), the variant of
 * Python's `cobs.cobs`: the encoded block never contains 0x00, a run of 254
 * non-zero bytes ends its block with code 0xFF, and the frame delimiter 0x00
 * is NOT part of the encoded block (the caller appends it).
 * Portable C99, no dynamic memory, no platform headers. Every function checks
 * its output capacity and never reads or writes out of bounds. */
#ifndef FES_COBS_H
#define FES_COBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of `n` payload bytes (without the delimiter). */
#define FES_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Encode `len` bytes of `src` into `dst` (capacity `cap`).
 * Returns true and the encoded length in *out_len, or false when `dst` is
 * too small (then *out_len is 0 and `dst` holds garbage). */
bool fes_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

/* Decode one encoded block (without its 0x00 delimiter) into `dst`.
 * Returns false on a malformed block (a 0x00 byte inside, a code that runs
 * past the end) or when `dst` is too small. `src` and `dst` may not overlap. */
bool fes_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

#endif
