/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor.
 * Check value: fes_crc16("123456789", 9) == 0x29B1. Same as Python's
 * binascii.crc_hqx(data, 0xFFFF). Portable C99, no platform headers. */
#ifndef FES_CRC16_H
#define FES_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define FES_CRC16_INIT 0xFFFFu

/* Continue a CRC over `len` more bytes; start with FES_CRC16_INIT. */
uint16_t fes_crc16_update(uint16_t crc, const uint8_t *data, size_t len);

/* CRC of one buffer. */
uint16_t fes_crc16(const uint8_t *data, size_t len);

#endif
