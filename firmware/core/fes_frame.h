/* Frame layer of the wire protocol (docs/protocol.md, "Framing"):
 *   wire frame = COBS(msg_id u8 | seq u16 LE | payload | crc u16 LE) 0x00
 * with CRC-16/CCITT-FALSE over msg_id, seq and payload. The decoder takes one
 * byte at a time, keeps a bounded buffer, never fails on garbage, drops a bad
 * frame with a count and resynchronises at the next 0x00. It does not know the
 * message table: id and payload length are checked by fes_msg. */
#ifndef FES_FRAME_H
#define FES_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fes_cobs.h"
#include "fes_protocol.h"

FES_STATIC_ASSERT(FES_MAX_ENCODED_FRAME == FES_COBS_MAX_ENCODED(FES_MAX_RAW_FRAME), cobs_bound);

typedef struct {
    uint32_t frames;      /* frames with a good CRC */
    uint32_t cobs_errors; /* malformed COBS */
    uint32_t crc_errors;  /* too short for header + CRC, or CRC mismatch */
    uint32_t oversize;    /* runs longer than FES_MAX_ENCODED_FRAME without delimiter */
} fes_frame_stats_t;

typedef struct {
    uint8_t msg_id;
    uint16_t seq;
    const uint8_t *payload; /* valid until the next fes_frame_feed() */
    size_t payload_len;
} fes_frame_t;

typedef struct {
    uint8_t enc[FES_MAX_ENCODED_FRAME];
    uint8_t raw[FES_MAX_RAW_FRAME];
    size_t len;
    bool skipping;
    fes_frame_stats_t stats;
} fes_frame_decoder_t;

void fes_frame_decoder_init(fes_frame_decoder_t *d);

/* Feed one received byte. Returns true when it completed a frame with a good
 * CRC; the frame is then in *out. */
bool fes_frame_feed(fes_frame_decoder_t *d, uint8_t byte, fes_frame_t *out);

/* Build the wire bytes (delimiter included) of one frame into `dst`.
 * Returns the length, or 0 when the payload is too long or `dst` too small. */
size_t fes_frame_encode(uint8_t msg_id, uint16_t seq, const uint8_t *payload, size_t payload_len,
                        uint8_t *dst, size_t cap);

#endif
