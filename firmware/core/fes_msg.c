#include "fes_msg.h"

FES_STATIC_ASSERT(sizeof(fes_payload_t) == FES_MAX_PAYLOAD, payload_union_size);

int fes_msg_payload_size(uint8_t msg_id)
{
    switch (msg_id) {
#define FES_SIZE_CASE(id, name, size, reply) \
    case id:                                 \
        return (int)(size);
        FES_MESSAGE_LIST(FES_SIZE_CASE)
#undef FES_SIZE_CASE
    default:
        return -1;
    }
}

fes_unpack_result_t fes_msg_unpack(const fes_frame_t *frame, fes_msg_t *out)
{
    int size = fes_msg_payload_size(frame->msg_id);
    if (size < 0) {
        return FES_UNPACK_UNKNOWN_ID;
    }
    if (frame->payload_len != (size_t)size) {
        return FES_UNPACK_BAD_LENGTH;
    }
    out->msg_id = frame->msg_id;
    out->seq = frame->seq;
    for (size_t i = 0; i < frame->payload_len; ++i) {
        out->p.bytes[i] = frame->payload[i];
    }
    return FES_UNPACK_OK;
}

size_t fes_msg_pack(const fes_msg_t *msg, uint8_t *dst, size_t cap)
{
    int size = fes_msg_payload_size(msg->msg_id);
    if (size < 0) {
        return 0;
    }
    return fes_frame_encode(msg->msg_id, msg->seq, msg->p.bytes, (size_t)size, dst, cap);
}
