#include "fes_cobs.h"

bool fes_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t out = 1;      /* next write position */
    size_t code_at = 0;  /* where the current block's code byte goes */
    uint8_t code = 1;

    *out_len = 0;
    if (cap == 0) {
        return false;
    }
    for (size_t i = 0; i < len; ++i) {
        if (src[i] == 0u) {
            dst[code_at] = code;
            code = 1;
            code_at = out++;
            if (code_at >= cap) {
                return false;
            }
        } else {
            if (out >= cap) {
                return false;
            }
            dst[out++] = src[i];
            ++code;
            if (code == 0xFFu && i + 1 < len) {
                /* A full block; a new one starts only if data follows. */
                dst[code_at] = code;
                code = 1;
                code_at = out++;
                if (code_at >= cap) {
                    return false;
                }
            }
        }
    }
    dst[code_at] = code;
    *out_len = out;
    return true;
}

bool fes_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t in = 0;
    size_t out = 0;

    *out_len = 0;
    while (in < len) {
        uint8_t code = src[in++];
        if (code == 0u) {
            return false;
        }
        size_t run = (size_t)code - 1u;
        if (run > len - in || run > cap - out) {
            return false;
        }
        for (size_t k = 0; k < run; ++k) {
            uint8_t b = src[in++];
            if (b == 0u) {
                return false;
            }
            dst[out++] = b;
        }
        if (code != 0xFFu && in < len) {
            if (out >= cap) {
                return false;
            }
            dst[out++] = 0u;
        }
    }
    *out_len = out;
    return true;
}
