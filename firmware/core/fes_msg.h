/* Message layer: typed payloads of docs/protocol.md over the frame layer.
 * The payload structs, ids and sizes come from generated/fes_protocol.h
 * (tools/gen_protocol_c.py); this file adds only the union of all payloads
 * and checked pack/unpack. Payload structs are packed little-endian images of
 * the wire, so pack/unpack is a length-checked copy on little-endian targets. */
#ifndef FES_MSG_H
#define FES_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fes_frame.h"
#include "fes_protocol.h"

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
#error "fes_msg copies packed little-endian payload images: convert field by field on big-endian targets"
#endif

typedef union {
    fes_hello_request_t hello_request;
    fes_set_limits_t set_limits;
    fes_set_config_t set_config;
    fes_set_mode_t set_mode;
    fes_start_t start;
    fes_stop_t stop;
    fes_set_envelope_t set_envelope;
    fes_heartbeat_t heartbeat;
    fes_estop_t estop;
    fes_clear_faults_t clear_faults;
    fes_host_sample_t host_sample;
    fes_time_ping_t time_ping;
    fes_set_param_t set_param;
    fes_hello_t hello;
    fes_ack_t ack;
    fes_nak_t nak;
    fes_sensor_sample_t sensor_sample;
    fes_stim_state_t stim_state;
    fes_device_event_t device_event;
    fes_fault_t fault;
    fes_time_pong_t time_pong;
    fes_status_t status;
    uint8_t bytes[FES_MAX_PAYLOAD];
} fes_payload_t;

typedef struct {
    uint8_t msg_id;
    uint16_t seq;
    fes_payload_t p;
} fes_msg_t;

typedef enum {
    FES_UNPACK_OK = 0,
    FES_UNPACK_UNKNOWN_ID,
    FES_UNPACK_BAD_LENGTH,
} fes_unpack_result_t;

/* Payload size of `msg_id`, or -1 for an id not in the protocol. */
int fes_msg_payload_size(uint8_t msg_id);

/* Check a frame's id and payload length and copy its payload into *out. */
fes_unpack_result_t fes_msg_unpack(const fes_frame_t *frame, fes_msg_t *out);

/* Wire bytes (COBS, delimiter included) of `msg` into `dst`; 0 when the id is
 * unknown or `dst` is too small. */
size_t fes_msg_pack(const fes_msg_t *msg, uint8_t *dst, size_t cap);

#endif
