#include "fes_frame.h"

#include "fes_crc16.h"

void fes_frame_decoder_init(fes_frame_decoder_t *d)
{
    d->len = 0;
    d->skipping = false;
    d->stats.frames = 0;
    d->stats.cobs_errors = 0;
    d->stats.crc_errors = 0;
    d->stats.oversize = 0;
}

static bool finish_frame(fes_frame_decoder_t *d, fes_frame_t *out)
{
    size_t raw_len = 0;
    if (!fes_cobs_decode(d->enc, d->len, d->raw, sizeof d->raw, &raw_len)) {
        d->stats.cobs_errors++;
        return false;
    }
    if (raw_len < FES_HEADER_SIZE + FES_CRC_SIZE) {
        d->stats.crc_errors++;
        return false;
    }
    size_t body_len = raw_len - FES_CRC_SIZE;
    uint16_t crc = (uint16_t)(d->raw[body_len] | (d->raw[body_len + 1u] << 8));
    if (fes_crc16(d->raw, body_len) != crc) {
        d->stats.crc_errors++;
        return false;
    }
    d->stats.frames++;
    out->msg_id = d->raw[0];
    out->seq = (uint16_t)(d->raw[1] | (d->raw[2] << 8));
    out->payload = &d->raw[FES_HEADER_SIZE];
    out->payload_len = body_len - FES_HEADER_SIZE;
    return true;
}

bool fes_frame_feed(fes_frame_decoder_t *d, uint8_t byte, fes_frame_t *out)
{
    if (byte == 0u) {
        bool ok = false;
        if (!d->skipping && d->len > 0u) {
            ok = finish_frame(d, out);
        }
        d->len = 0;
        d->skipping = false;
        return ok;
    }
    if (d->skipping) {
        return false;
    }
    if (d->len >= sizeof d->enc) {
        d->stats.oversize++;
        d->skipping = true;
        d->len = 0;
        return false;
    }
    d->enc[d->len++] = byte;
    return false;
}

size_t fes_frame_encode(uint8_t msg_id, uint16_t seq, const uint8_t *payload, size_t payload_len,
                        uint8_t *dst, size_t cap)
{
    uint8_t raw[FES_MAX_RAW_FRAME];
    size_t enc_len = 0;

    if (payload_len > FES_MAX_PAYLOAD) {
        return 0;
    }
    raw[0] = msg_id;
    raw[1] = (uint8_t)(seq & 0xFFu);
    raw[2] = (uint8_t)(seq >> 8);
    for (size_t i = 0; i < payload_len; ++i) {
        raw[FES_HEADER_SIZE + i] = payload[i];
    }
    size_t body_len = FES_HEADER_SIZE + payload_len;
    uint16_t crc = fes_crc16(raw, body_len);
    raw[body_len] = (uint8_t)(crc & 0xFFu);
    raw[body_len + 1u] = (uint8_t)(crc >> 8);
    if (cap == 0u || !fes_cobs_encode(raw, body_len + FES_CRC_SIZE, dst, cap - 1u, &enc_len)) {
        return 0;
    }
    dst[enc_len] = 0u;
    return enc_len + 1u;
}
