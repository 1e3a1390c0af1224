#include "fes_device.h"

#include <math.h>

#include "fes_port.h"

#define US_PER_MS 1000u

/* ------------------------------------------------------------------ sending */

static void send(fes_device_t *dev, fes_msg_t *m)
{
    uint8_t wire[FES_MAX_WIRE_FRAME];
    m->seq = dev->tx_seq;
    size_t n = fes_msg_pack(m, wire, sizeof wire);
    if (n == 0u || fes_port_uart_tx_free() < n || !fes_port_uart_write(wire, n)) {
        dev->tx_dropped++;
        return;
    }
    dev->tx_seq++;
}

static void make_nak(fes_msg_t *m, uint16_t req_seq, uint8_t msg_id, uint8_t code, uint16_t detail)
{
    m->msg_id = FES_MSG_NAK;
    m->p.nak.req_seq = req_seq;
    m->p.nak.msg_id = msg_id;
    m->p.nak.code = code;
    m->p.nak.detail = detail;
    m->p.nak.reserved = 0;
}

static void make_ack(fes_msg_t *m, uint16_t req_seq, uint8_t msg_id)
{
    m->msg_id = FES_MSG_ACK;
    m->p.ack.req_seq = req_seq;
    m->p.ack.msg_id = msg_id;
    m->p.ack.reserved = 0;
}

/* ------------------------------------------------------------------ limits */

typedef struct {
    uint8_t code; /* 0 = accepted */
    uint16_t detail;
} verdict_t;

static const verdict_t k_ok = {0u, 0u};

static verdict_t refuse(uint8_t code, uint16_t detail)
{
    verdict_t v;
    v.code = code;
    v.detail = detail;
    return v;
}

static verdict_t check_config(const fes_limits_t *l, float current, float pw, float freq)
{
    if (current < 0.0f || current > l->max_current_ma) {
        return refuse(FES_NAK_LIMIT_EXCEEDED, 1u);
    }
    if (!(pw > 0.0f) || pw > l->max_pulse_width_us) {
        return refuse(FES_NAK_LIMIT_EXCEEDED, 2u);
    }
    if (freq < l->min_frequency_hz || freq > l->max_frequency_hz) {
        return refuse(FES_NAK_LIMIT_EXCEEDED, 3u);
    }
    if (current * pw / 1000.0f > l->max_charge_uc) {
        return refuse(FES_NAK_LIMIT_EXCEEDED, 1u);
    }
    return k_ok;
}

/* ------------------------------------------------------------------ output */

static float output_current_ma(const fes_device_t *dev)
{
    return dev->envelope * dev->cfg.current_ma;
}

/* While any fault is active the state stays FAULT. */
static void set_state(fes_device_t *dev, uint8_t state, uint32_t ref_index)
{
    if (state == dev->state || (dev->faults != 0u && state != FES_STATE_FAULT)) {
        return;
    }
    fes_msg_t m;
    m.msg_id = FES_MSG_STIM_STATE;
    m.p.stim_state.t_us = (uint32_t)dev->now_us;
    m.p.stim_state.ref_index = ref_index;
    m.p.stim_state.pulses = dev->pulses;
    m.p.stim_state.charge_uc = dev->charge_uc;
    m.p.stim_state.envelope = dev->envelope;
    m.p.stim_state.current_ma = output_current_ma(dev);
    m.p.stim_state.pulse_width_us = dev->configured ? dev->cfg.pulse_width_us : 0.0f;
    m.p.stim_state.frequency_hz = dev->configured ? dev->cfg.frequency_hz : 0.0f;
    m.p.stim_state.state = state;
    m.p.stim_state.prev_state = dev->state;
    m.p.stim_state.channel = 0;
    m.p.stim_state.reserved = 0;
    dev->state = state;
    send(dev, &m);
}

static void raise_fault(fes_device_t *dev, uint16_t flag, uint32_t ref_index);

/* Drive the port from dev->envelope. Last line of defence: an output beyond
 * the limits in force (which the checks on SET_LIMITS, SET_CONFIG and
 * HOST_SAMPLE never let through) is not applied; fault LIMIT switches the
 * output off instead. */
static void apply_output(fes_device_t *dev)
{
    float env = dev->envelope;
    if (!(env > 0.0f) || dev->faults != 0u) {
        dev->envelope = 0.0f;
        fes_port_stim_off();
        return;
    }
    if (env > 1.0f) {
        env = 1.0f;
        dev->envelope = env;
    }
    float current = env * dev->cfg.current_ma;
    if (!dev->configured ||
        check_config(&dev->limits, current, dev->cfg.pulse_width_us, dev->cfg.frequency_hz).code != 0u) {
        raise_fault(dev, FES_FAULT_LIMIT, FES_NO_SAMPLE);
        return;
    }
    /* within the limits (checked above), so within the hardware maxima: no overflow */
    uint32_t max_mhz = (uint32_t)(dev->limits.max_frequency_hz * 1000.0f);
    uint32_t mhz = (uint32_t)(dev->cfg.frequency_hz * 1000.0f + 0.5f);
    fes_port_stim_t out;
    out.current_ua = (uint32_t)(current * 1000.0f);
    out.pulse_width_us = (uint16_t)dev->cfg.pulse_width_us;
    out.frequency_mhz = mhz < max_mhz ? mhz : max_mhz;
    fes_port_stim_apply(&out);
}

static void set_envelope(fes_device_t *dev, float env)
{
    bool was_on = dev->envelope > 0.0f;
    dev->envelope = env;
    apply_output(dev);
    if (!was_on && dev->envelope > 0.0f) {
        dev->out_on_since_us = dev->now_us;
        dev->out_tick_us = dev->now_us;
        dev->pulse_phase = 0.0;
    }
}

static void cancel_ramps(fes_device_t *dev)
{
    dev->ramp_us = 0;
    dev->ramp_to = dev->ramp_from = 0.0f;
    dev->stop_armed = false;
}

static void output_off(fes_device_t *dev)
{
    fes_port_stim_off();
    cancel_ramps(dev);
    dev->envelope = 0.0f;
}

static bool output_active(const fes_device_t *dev)
{
    return dev->state != FES_STATE_IDLE && dev->state != FES_STATE_FAULT;
}

/* Start an envelope ramp from the present value; duration 0 = at once. */
static void start_ramp(fes_device_t *dev, float to, uint32_t duration_ms, uint32_t ref_index)
{
    dev->ramp_from = dev->envelope;
    dev->ramp_to = to;
    dev->ramp_t0_us = dev->now_us;
    dev->ramp_us = duration_ms * US_PER_MS;
    if (dev->ramp_us == 0u) {
        set_envelope(dev, to);
        set_state(dev, to > 0.0f ? FES_STATE_ON : FES_STATE_IDLE, ref_index);
    } else {
        set_state(dev, to > dev->ramp_from ? FES_STATE_RAMP_UP : FES_STATE_RAMP_DOWN, ref_index);
    }
}

/* ------------------------------------------------------------------ faults */

static void send_fault(fes_device_t *dev, uint16_t code, uint8_t active)
{
    fes_msg_t m;
    m.msg_id = FES_MSG_FAULT;
    m.p.fault.t_us = (uint32_t)dev->now_us;
    m.p.fault.flags = dev->faults;
    m.p.fault.code = code;
    m.p.fault.active = active;
    send(dev, &m);
}

static void raise_fault(fes_device_t *dev, uint16_t flag, uint32_t ref_index)
{
    if (dev->faults & flag) {
        return;
    }
    dev->faults = (uint16_t)(dev->faults | flag);
    output_off(dev); /* before anything is reported */
    set_state(dev, FES_STATE_FAULT, ref_index);
    send_fault(dev, flag, 1u);
}

static void clear_faults(fes_device_t *dev, uint16_t mask)
{
    uint16_t cleared = (uint16_t)(dev->faults & mask);
    if (cleared == 0u) {
        return;
    }
    dev->faults = (uint16_t)(dev->faults & ~mask);
    for (uint16_t bit = 1u; bit != 0u && bit <= cleared; bit = (uint16_t)(bit << 1)) {
        if (cleared & bit) {
            send_fault(dev, bit, 0u);
        }
    }
    if (dev->faults == 0u) {
        set_state(dev, FES_STATE_IDLE, FES_NO_SAMPLE);
        if (dev->mode == FES_MODE_DEVICE_LOOP) {
            fes_pipeline_reset(&dev->pipe);
        }
    }
}

/* A command that switches output on first clears MAX_ON_TIME and LIMIT;
 * returns false when another fault still forbids output. */
static bool may_switch_on(fes_device_t *dev)
{
    clear_faults(dev, FES_FAULT_MAX_ON_TIME | FES_FAULT_LIMIT);
    return dev->faults == 0u;
}

/* ------------------------------------------------------------------ session */

static void default_limits(fes_limits_t *l)
{
    l->max_current_ma = FES_HW_MAX_CURRENT_MA;
    l->max_pulse_width_us = FES_HW_MAX_PULSE_WIDTH_US;
    l->min_frequency_hz = FES_HW_MIN_FREQUENCY_HZ;
    l->max_frequency_hz = FES_HW_MAX_FREQUENCY_HZ;
    l->max_charge_uc = FES_HW_MAX_CHARGE_UC;
    l->max_on_ms = FES_DEFAULT_MAX_ON_MS;
    l->watchdog_ms = FES_DEFAULT_WATCHDOG_MS;
}

/* Power-up and HELLO_REQUEST defaults; latched faults survive. */
static void session_defaults(fes_device_t *dev)
{
    output_off(dev);
    dev->have_host_seq = false;
    dev->have_cmd = false;
    dev->rx_frames = 0;
    dev->rx_errors = 0;
    dev->pulses = 0;
    dev->charge_uc = 0.0f;
    dev->pulse_phase = 0.0;
    default_limits(&dev->limits);
    dev->configured = false;
    fes_pipeline_default_config(&dev->params);
    dev->mode = FES_MODE_COMMAND;
    dev->sample_rate_hz = FES_NATIVE_SAMPLE_RATE_HZ;
    clear_faults(dev, (uint16_t) ~(unsigned)FES_LATCHED_FAULTS);
    set_state(dev, dev->faults ? FES_STATE_FAULT : FES_STATE_IDLE, FES_NO_SAMPLE);
}

void fes_device_init(fes_device_t *dev, uint64_t now_us)
{
    fes_frame_decoder_init(&dev->rx);
    dev->now_us = now_us;
    dev->tx_seq = 0;
    dev->tx_dropped = 0;
    dev->session = false;
    dev->last_rx_us = now_us;
    dev->faults = 0;
    dev->state = FES_STATE_IDLE;
    dev->envelope = 0.0f;
    dev->cfg.current_ma = 0.0f;
    dev->cfg.pulse_width_us = 0.0f;
    dev->cfg.frequency_hz = 0.0f;
    dev->cfg.ramp_up_ms = dev->cfg.ramp_down_ms = dev->cfg.extension_ms = 0;
    dev->out_on_since_us = dev->out_tick_us = now_us;
    dev->ramp_t0_us = dev->stop_at_us = now_us;
    dev->sample_index = 0;
    dev->stream_t0_us = now_us;
    dev->stream_k = 0;
    dev->have_host_t = false;
    dev->host_t_last_us = 0;
    dev->host_t_us = 0;
    session_defaults(dev);
}

static void handle_hello(fes_device_t *dev, const fes_msg_t *req, fes_msg_t *ans)
{
    dev->session = true;
    session_defaults(dev);
    dev->rx_frames = 1u; /* counters since HELLO, this one included */
    ans->msg_id = FES_MSG_HELLO;
    fes_hello_t *h = &ans->p.hello;
    h->req_seq = req->seq;
    h->protocol_version = FES_PROTOCOL_VERSION;
    h->firmware_version = FES_FIRMWARE_VERSION;
    h->sample_rate_hz = FES_NATIVE_SAMPLE_RATE_HZ;
    h->device_id = fes_port_device_id();
    h->capabilities = FES_CAP_COMMAND | FES_CAP_HOST_LOOP | FES_CAP_DEVICE_LOOP | FES_CAP_TIME_SYNC | FES_CAP_STATUS;
    h->max_current_ma = FES_HW_MAX_CURRENT_MA;
    h->max_pulse_width_us = FES_HW_MAX_PULSE_WIDTH_US;
    h->min_frequency_hz = FES_HW_MIN_FREQUENCY_HZ;
    h->max_frequency_hz = FES_HW_MAX_FREQUENCY_HZ;
    h->max_charge_uc = FES_HW_MAX_CHARGE_UC;
    h->watchdog_ms = dev->limits.watchdog_ms;
    h->channels = FES_HW_CHANNELS;
    h->reserved = 0;
    h->max_on_ms = FES_HW_MAX_ON_MS;
}

/* ------------------------------------------------------------------ checks */

/* Refusal of a command that would switch output on: latched ESTOP first, then no session yet. */
static verdict_t check_may_enable_output(const fes_device_t *dev)
{
    if (dev->faults & FES_FAULT_ESTOP) {
        return refuse(FES_NAK_ESTOP_LATCHED, 0u);
    }
    if (!dev->session) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    return k_ok;
}

static verdict_t first_nonfinite(const float *values, uint16_t n)
{
    for (uint16_t i = 0; i < n; ++i) {
        if (!isfinite(values[i])) {
            return refuse(FES_NAK_BAD_VALUE, (uint16_t)(i + 1u));
        }
    }
    return k_ok;
}

static void init_pipeline(fes_device_t *dev)
{
    fes_pipeline_config_t pc = dev->params;
    pc.stimulation.current_ma = dev->cfg.current_ma;
    pc.stimulation.pulse_width_us = dev->cfg.pulse_width_us;
    pc.stimulation.frequency_hz = dev->cfg.frequency_hz;
    pc.stimulation.ramp_up_ms = dev->cfg.ramp_up_ms;
    pc.stimulation.ramp_down_ms = dev->cfg.ramp_down_ms;
    pc.stimulation.extension_ms = dev->cfg.extension_ms;
    /* the controller's own maximum on-time never exceeds the one of the limits in force */
    double limit_s = (double)dev->limits.max_on_ms * 1e-3;
    if (pc.stimulation.max_on_time_s > limit_s) {
        pc.stimulation.max_on_time_s = limit_s;
    }
    fes_pipeline_init(&dev->pipe, &pc, (double)dev->sample_rate_hz);
    dev->have_host_t = false;
}

static verdict_t do_set_limits(fes_device_t *dev, const fes_set_limits_t *p)
{
    const float f[5] = {p->max_current_ma, p->max_pulse_width_us, p->min_frequency_hz, p->max_frequency_hz,
                        p->max_charge_uc};
    const float hw[5] = {FES_HW_MAX_CURRENT_MA, FES_HW_MAX_PULSE_WIDTH_US, 0.0f, FES_HW_MAX_FREQUENCY_HZ,
                         FES_HW_MAX_CHARGE_UC};
    verdict_t v = first_nonfinite(f, 5u);
    if (v.code) {
        return v;
    }
    for (uint16_t i = 0; i < 5u; ++i) {
        if (i == 2u) {
            if (f[i] < FES_HW_MIN_FREQUENCY_HZ) {
                return refuse(FES_NAK_LIMIT_EXCEEDED, 3u);
            }
        } else if (!(f[i] > 0.0f) || f[i] > hw[i]) {
            return refuse(FES_NAK_LIMIT_EXCEEDED, (uint16_t)(i + 1u));
        }
    }
    if (p->max_on_ms > FES_HW_MAX_ON_MS) {
        return refuse(FES_NAK_LIMIT_EXCEEDED, 6u);
    }
    if (p->min_frequency_hz > p->max_frequency_hz) {
        return refuse(FES_NAK_BAD_VALUE, 3u);
    }
    if (p->max_on_ms == 0u) {
        return refuse(FES_NAK_BAD_VALUE, 6u);
    }
    if (p->watchdog_ms < FES_WATCHDOG_MIN_MS || p->watchdog_ms > FES_WATCHDOG_MAX_MS) {
        return refuse(FES_NAK_BAD_VALUE, 7u);
    }
    if (output_active(dev)) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    dev->limits.max_current_ma = p->max_current_ma;
    dev->limits.max_pulse_width_us = p->max_pulse_width_us;
    dev->limits.min_frequency_hz = p->min_frequency_hz;
    dev->limits.max_frequency_hz = p->max_frequency_hz;
    dev->limits.max_charge_uc = p->max_charge_uc;
    dev->limits.max_on_ms = p->max_on_ms;
    dev->limits.watchdog_ms = p->watchdog_ms;
    if (dev->configured &&
        check_config(&dev->limits, dev->cfg.current_ma, dev->cfg.pulse_width_us, dev->cfg.frequency_hz).code) {
        dev->configured = false; /* in DEVICE_LOOP the controller stops: HOST_SAMPLE is refused */
    }
    if (dev->mode == FES_MODE_DEVICE_LOOP && dev->configured) {
        init_pipeline(dev); /* with the new limits (maximum on-time) */
    }
    return k_ok;
}

static verdict_t do_set_param(fes_device_t *dev, const fes_set_param_t *p)
{
    if (!isfinite(p->value)) {
        return refuse(FES_NAK_BAD_VALUE, 1u);
    }
    fes_pipeline_config_t next = dev->params;
    switch (fes_pipeline_set_param(&next, p->param_id, p->value)) {
    case FES_PARAM_UNKNOWN:
        return refuse(FES_NAK_BAD_VALUE, 2u);
    case FES_PARAM_OUT_OF_RANGE:
        return refuse(FES_NAK_BAD_VALUE, 1u);
    case FES_PARAM_UNSUPPORTED:
        return refuse(FES_NAK_UNSUPPORTED, 1u);
    case FES_PARAM_OK:
        break;
    }
    if (output_active(dev)) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    dev->params = next;
    if (dev->mode == FES_MODE_DEVICE_LOOP) {
        init_pipeline(dev);
    }
    return k_ok;
}

static verdict_t do_set_config(fes_device_t *dev, const fes_set_config_t *p)
{
    const float f[3] = {p->current_ma, p->pulse_width_us, p->frequency_hz};
    verdict_t v = first_nonfinite(f, 3u);
    if (v.code) {
        return v;
    }
    v = check_config(&dev->limits, p->current_ma, p->pulse_width_us, p->frequency_hz);
    if (v.code) {
        return v;
    }
    if (p->channel >= FES_HW_CHANNELS) {
        return refuse(FES_NAK_BAD_VALUE, 7u);
    }
    if (output_active(dev)) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    dev->cfg.current_ma = p->current_ma;
    dev->cfg.pulse_width_us = p->pulse_width_us;
    dev->cfg.frequency_hz = p->frequency_hz;
    dev->cfg.ramp_up_ms = p->ramp_up_ms;
    dev->cfg.ramp_down_ms = p->ramp_down_ms;
    dev->cfg.extension_ms = p->extension_ms;
    dev->configured = true;
    if (dev->mode == FES_MODE_DEVICE_LOOP) {
        init_pipeline(dev);
    }
    return k_ok;
}

static verdict_t do_set_mode(fes_device_t *dev, const fes_set_mode_t *p)
{
    bool loop = p->mode == FES_MODE_HOST_LOOP || p->mode == FES_MODE_DEVICE_LOOP;
    verdict_t v = loop ? check_may_enable_output(dev) : k_ok;
    if (v.code) {
        return v;
    }
    if (p->mode > FES_MODE_DEVICE_LOOP) {
        return refuse(FES_NAK_BAD_VALUE, 2u);
    }
    if (p->sample_rate_hz < 1u || p->sample_rate_hz > FES_MAX_SAMPLE_RATE_HZ) {
        return refuse(FES_NAK_UNSUPPORTED, 1u);
    }
    if (loop && !dev->configured) {
        return refuse(FES_NAK_NOT_CONFIGURED, 0u);
    }
    output_off(dev);
    if (dev->faults == 0u) {
        set_state(dev, FES_STATE_IDLE, FES_NO_SAMPLE);
    }
    dev->mode = p->mode;
    dev->sample_rate_hz = p->sample_rate_hz;
    dev->stream_t0_us = dev->now_us;
    dev->stream_k = 0;
    dev->sample_index = 0;
    if (dev->mode == FES_MODE_DEVICE_LOOP) {
        init_pipeline(dev);
    }
    return k_ok;
}

static verdict_t do_start(fes_device_t *dev, const fes_start_t *p)
{
    verdict_t v = check_may_enable_output(dev);
    if (v.code) {
        return v;
    }
    if (!dev->configured) {
        return refuse(FES_NAK_NOT_CONFIGURED, 0u);
    }
    if (dev->mode != FES_MODE_COMMAND) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    if (p->duration_ms > dev->limits.max_on_ms) {
        return refuse(FES_NAK_LIMIT_EXCEEDED, 1u);
    }
    if (p->channel >= FES_HW_CHANNELS) {
        return refuse(FES_NAK_BAD_VALUE, 3u);
    }
    if (!may_switch_on(dev)) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    start_ramp(dev, 1.0f, p->ramp_up_ms, FES_NO_SAMPLE);
    dev->stop_armed = p->duration_ms > 0u;
    dev->stop_at_us = dev->now_us + (uint64_t)p->duration_ms * US_PER_MS;
    return k_ok;
}

static verdict_t do_stop(fes_device_t *dev, const fes_stop_t *p)
{
    if (p->channel >= FES_HW_CHANNELS) {
        return refuse(FES_NAK_BAD_VALUE, 2u);
    }
    dev->stop_armed = false;
    if (dev->mode == FES_MODE_DEVICE_LOOP) {
        output_off(dev);
        fes_pipeline_reset(&dev->pipe);
        if (dev->faults == 0u) {
            set_state(dev, FES_STATE_IDLE, FES_NO_SAMPLE);
        }
    } else if (output_active(dev)) {
        start_ramp(dev, 0.0f, p->ramp_down_ms, FES_NO_SAMPLE);
    }
    return k_ok;
}

static verdict_t do_set_envelope(fes_device_t *dev, const fes_set_envelope_t *p)
{
    float e = p->envelope;
    if (!isfinite(e)) {
        return refuse(FES_NAK_BAD_VALUE, 2u);
    }
    verdict_t v = e > 0.0f ? check_may_enable_output(dev) : k_ok;
    if (v.code) {
        return v;
    }
    if (e < 0.0f || e > 1.0f) {
        return refuse(FES_NAK_BAD_VALUE, 2u);
    }
    if (!dev->configured) {
        return refuse(FES_NAK_NOT_CONFIGURED, 0u);
    }
    if (dev->mode == FES_MODE_DEVICE_LOOP) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    if (e > 0.0f && !may_switch_on(dev)) {
        return refuse(FES_NAK_BAD_STATE, 0u);
    }
    cancel_ramps(dev);
    set_envelope(dev, e);
    if (dev->faults == 0u) {
        set_state(dev, e > 0.0f ? FES_STATE_ON : FES_STATE_IDLE, p->ref_index);
    }
    return k_ok;
}

/* ------------------------------------------------------------------ device loop */

static void to_sample(const fes_host_sample_t *h, double t_s, fes_sample_t *s)
{
    s->t_s = t_s;
    s->acc_x_mps2 = h->acc_x_mps2;
    s->acc_y_mps2 = h->acc_y_mps2;
    s->acc_z_mps2 = h->acc_z_mps2;
    s->gyr_x_dps = h->gyr_x_dps;
    s->gyr_y_dps = h->gyr_y_dps;
    s->gyr_z_dps = h->gyr_z_dps;
    s->tilt_deg = h->tilt_deg;
    s->footswitch = h->footswitch == FES_FOOTSWITCH_ABSENT ? NAN : (double)h->footswitch;
}

static void run_host_sample(fes_device_t *dev, const fes_host_sample_t *h)
{
    if (dev->faults != 0u) {
        return; /* output stays off; the controller restarts when the fault clears */
    }
    uint32_t t_us = h->t_us;
    if (!dev->have_host_t) {
        dev->have_host_t = true;
        dev->host_t_us = t_us;
    } else {
        dev->host_t_us = (uint64_t)((int64_t)dev->host_t_us + (int32_t)(t_us - dev->host_t_last_us));
    }
    dev->host_t_last_us = t_us;

    fes_sample_t s;
    fes_pipeline_out_t out;
    to_sample(h, (double)dev->host_t_us * 1e-6, &s);
    fes_pipeline_update(&dev->pipe, &s, &out);

    if (out.event != FES_EVENT_NONE) {
        fes_msg_t m;
        m.msg_id = FES_MSG_DEVICE_EVENT;
        m.p.device_event.t_us = (uint32_t)dev->now_us;
        m.p.device_event.sample_index = h->sample_index;
        m.p.device_event.tilt_est_deg = (float)out.tilt_est_deg;
        m.p.device_event.event = (uint8_t)out.event;
        m.p.device_event.reserved = 0;
        m.p.device_event.reserved2 = 0;
        send(dev, &m);
    }
    set_envelope(dev, (float)out.envelope);
    if (out.pulses > 0u) {
        dev->pulses += out.pulses;
        dev->charge_uc += (float)out.pulses * output_current_ma(dev) * dev->cfg.pulse_width_us / 1000.0f;
    }
    set_state(dev, out.state, h->sample_index);
}

/* ------------------------------------------------------------------ dispatch */

static bool is_command(uint8_t msg_id)
{
    switch (msg_id) {
#define FES_CMD_CASE(id, name, size, reply) \
    case id:                                \
        return (reply) != 0;
        FES_MESSAGE_LIST(FES_CMD_CASE)
#undef FES_CMD_CASE
    default:
        return false;
    }
}

static void handle(fes_device_t *dev, const fes_msg_t *req, uint64_t rx_us)
{
    fes_msg_t ans;
    verdict_t v = k_ok;
    bool answer = true; /* commands always answer; streamed messages only on refusal */

    switch (req->msg_id) {
    case FES_MSG_HELLO_REQUEST:
        handle_hello(dev, req, &ans);
        break;
    case FES_MSG_SET_LIMITS:
        v = do_set_limits(dev, &req->p.set_limits);
        break;
    case FES_MSG_SET_CONFIG:
        v = do_set_config(dev, &req->p.set_config);
        break;
    case FES_MSG_SET_MODE:
        v = do_set_mode(dev, &req->p.set_mode);
        break;
    case FES_MSG_SET_PARAM:
        v = do_set_param(dev, &req->p.set_param);
        break;
    case FES_MSG_START:
        v = do_start(dev, &req->p.start);
        break;
    case FES_MSG_STOP:
        v = do_stop(dev, &req->p.stop);
        break;
    case FES_MSG_SET_ENVELOPE:
        v = do_set_envelope(dev, &req->p.set_envelope);
        answer = v.code != 0u;
        break;
    case FES_MSG_HEARTBEAT:
        answer = false;
        break;
    case FES_MSG_ESTOP:
        output_off(dev);
        raise_fault(dev, FES_FAULT_ESTOP, FES_NO_SAMPLE);
        break;
    case FES_MSG_CLEAR_FAULTS:
        clear_faults(dev, req->p.clear_faults.mask);
        break;
    case FES_MSG_HOST_SAMPLE:
        if (dev->mode != FES_MODE_DEVICE_LOOP) {
            v = refuse(FES_NAK_BAD_STATE, 0u);
        } else if (!dev->configured) {
            v = refuse(FES_NAK_NOT_CONFIGURED, 0u);
        } else {
            run_host_sample(dev, &req->p.host_sample);
            answer = false;
        }
        break;
    case FES_MSG_TIME_PING:
        ans.msg_id = FES_MSG_TIME_PONG;
        ans.p.time_pong.host_time_us = req->p.time_ping.host_time_us;
        ans.p.time_pong.device_rx_us = (uint32_t)rx_us;
        ans.p.time_pong.req_seq = req->seq;
        ans.p.time_pong.reserved = 0;
        ans.p.time_pong.device_tx_us = (uint32_t)fes_port_time_us();
        break;
    case FES_MSG_GET_STATUS:
        ans.msg_id = FES_MSG_STATUS;
        ans.p.status.t_us = (uint32_t)dev->now_us;
        ans.p.status.rx_frames = dev->rx_frames;
        ans.p.status.rx_errors = dev->rx_errors;
        ans.p.status.pulses = dev->pulses;
        ans.p.status.charge_uc = dev->charge_uc;
        ans.p.status.req_seq = req->seq;
        ans.p.status.fault_flags = dev->faults;
        ans.p.status.state = dev->state;
        ans.p.status.mode = dev->mode;
        ans.p.status.reserved = 0;
        break;
    default: /* a host-to-device message of the table this firmware does not implement (yet) */
        v = refuse(FES_NAK_UNSUPPORTED, 0u);
        break;
    }
    if (v.code != 0u) {
        make_nak(&ans, req->seq, req->msg_id, v.code, v.detail);
        answer = true;
    } else if (answer && req->msg_id != FES_MSG_HELLO_REQUEST && req->msg_id != FES_MSG_TIME_PING &&
               req->msg_id != FES_MSG_GET_STATUS) {
        make_ack(&ans, req->seq, req->msg_id);
    }
    if (!answer) {
        return;
    }
    if (is_command(req->msg_id)) {
        dev->have_cmd = true;
        dev->cmd_req = *req;
        dev->cmd_answer = ans;
    }
    send(dev, &ans);
}

/* A command is retransmitted with its seq, id and payload unchanged; comparing all
 * three keeps a new command whose seq wrapped onto the last one's from being taken
 * for a retransmission (and answered without being applied). */
static bool is_retransmission(const fes_device_t *dev, const fes_msg_t *req)
{
    if (!dev->have_cmd || req->seq != dev->cmd_req.seq || req->msg_id != dev->cmd_req.msg_id) {
        return false;
    }
    int size = fes_msg_payload_size(req->msg_id);
    for (int i = 0; i < size; ++i) {
        if (req->p.bytes[i] != dev->cmd_req.p.bytes[i]) {
            return false;
        }
    }
    return true;
}

/* A frame with a good CRC that is not a host-to-device message of the table: a
 * host-to-device id (0x01-0x7F) the table lacks or with a wrong payload size is
 * answered with NAK UNKNOWN_MESSAGE or BAD_LENGTH (its seq is trustworthy, the CRC
 * being good); a device-to-host id (an echo of our own frames, say) is dropped
 * silently, so an echoing line cannot start a NAK storm. Neither feeds the watchdog. */
static void reject_frame(fes_device_t *dev, const fes_frame_t *frame, fes_unpack_result_t why)
{
    dev->rx_errors++;
    if (why == FES_UNPACK_OK || frame->msg_id >= 0x80u) {
        return;
    }
    fes_msg_t nak;
    make_nak(&nak, frame->seq, frame->msg_id,
             why == FES_UNPACK_UNKNOWN_ID ? FES_NAK_UNKNOWN_MESSAGE : FES_NAK_BAD_LENGTH, 0u);
    send(dev, &nak);
}

static void on_frame(fes_device_t *dev, const fes_frame_t *frame)
{
    fes_msg_t req;
    fes_unpack_result_t r = fes_msg_unpack(frame, &req);
    if (r != FES_UNPACK_OK || frame->msg_id >= 0x80u) {
        reject_frame(dev, frame, r);
        return;
    }
    dev->rx_frames++;
    dev->last_rx_us = dev->now_us; /* every valid host frame feeds the watchdog, */
    clear_faults(dev, FES_FAULT_WATCHDOG); /* and clears its fault, duplicates included */
    if (req.msg_id != FES_MSG_HELLO_REQUEST) {
        if (is_command(req.msg_id)) {
            if (is_retransmission(dev, &req)) {
                fes_msg_t again = dev->cmd_answer;
                send(dev, &again);
                return;
            }
        } else if (dev->have_host_seq && req.seq == dev->host_seq) {
            return;
        }
    }
    dev->have_host_seq = true;
    dev->host_seq = req.seq;
    handle(dev, &req, dev->now_us);
}

void fes_device_rx_byte(fes_device_t *dev, uint8_t byte, uint64_t now_us)
{
    fes_frame_t frame;
    uint32_t errors_before = dev->rx.stats.cobs_errors + dev->rx.stats.crc_errors + dev->rx.stats.oversize;
    dev->now_us = now_us;
    bool ok = fes_frame_feed(&dev->rx, byte, &frame);
    dev->rx_errors += dev->rx.stats.cobs_errors + dev->rx.stats.crc_errors + dev->rx.stats.oversize - errors_before;
    if (ok) {
        on_frame(dev, &frame);
    }
}

/* ------------------------------------------------------------------ time-driven work */

static void tick_envelope(fes_device_t *dev)
{
    if (dev->mode == FES_MODE_DEVICE_LOOP || dev->faults != 0u) {
        return;
    }
    if (dev->ramp_us > 0u) {
        uint64_t el = dev->now_us - dev->ramp_t0_us;
        if (el >= dev->ramp_us) {
            float to = dev->ramp_to;
            dev->ramp_us = 0;
            set_envelope(dev, to);
            set_state(dev, to > 0.0f ? FES_STATE_ON : FES_STATE_IDLE, FES_NO_SAMPLE);
        } else {
            float frac = (float)el / (float)dev->ramp_us;
            set_envelope(dev, dev->ramp_from + (dev->ramp_to - dev->ramp_from) * frac);
        }
    }
    if (dev->stop_armed && dev->now_us >= dev->stop_at_us) {
        dev->stop_armed = false;
        start_ramp(dev, 0.0f, dev->cfg.ramp_down_ms, FES_NO_SAMPLE);
    }
    /* pulses delivered at the present output (device-loop counts come from its controller) */
    if (dev->envelope > 0.0f) {
        dev->pulse_phase += (double)(dev->now_us - dev->out_tick_us) * 1e-6 * dev->cfg.frequency_hz;
        while (dev->pulse_phase >= 1.0) {
            dev->pulse_phase -= 1.0;
            dev->pulses++;
            dev->charge_uc += output_current_ma(dev) * dev->cfg.pulse_width_us / 1000.0f;
        }
    }
    dev->out_tick_us = dev->now_us;
}

/* Readings a late super-loop can still collect, as from an IMU's FIFO (32 ms at 1 kHz). */
#define FES_SENSOR_FIFO_SAMPLES 32u

static void stream_samples(fes_device_t *dev)
{
    if (dev->mode != FES_MODE_HOST_LOOP) {
        return;
    }
    uint64_t period_us = 1000000u / dev->sample_rate_hz;
    for (;;) {
        uint64_t due = dev->stream_t0_us + (uint64_t)dev->stream_k * 1000000u / dev->sample_rate_hz;
        if (dev->now_us < due) {
            return;
        }
        uint32_t index = dev->stream_k++;
        fes_port_sensor_t s;
        if (dev->now_us - due > FES_SENSOR_FIFO_SAMPLES * period_us || !fes_port_sensor_read(due, &s)) {
            continue; /* fell out of the sensor's FIFO or no reading: skipped, the host sees an index gap */
        }
        fes_msg_t m;
        m.msg_id = FES_MSG_SENSOR_SAMPLE;
        fes_sensor_sample_t *o = &m.p.sensor_sample;
        o->sample_index = index;
        o->t_us = (uint32_t)due;
        o->acc_x_mps2 = s.acc_mps2[0];
        o->acc_y_mps2 = s.acc_mps2[1];
        o->acc_z_mps2 = s.acc_mps2[2];
        o->gyr_x_dps = s.gyr_dps[0];
        o->gyr_y_dps = s.gyr_dps[1];
        o->gyr_z_dps = s.gyr_dps[2];
        o->tilt_deg = s.tilt_deg;
        o->footswitch = s.footswitch;
        dev->sample_index = index;
        send(dev, &m);
    }
}

void fes_device_tick(fes_device_t *dev, uint64_t now_us)
{
    dev->now_us = now_us;
    if (dev->session && !(dev->faults & FES_FAULT_WATCHDOG) &&
        now_us - dev->last_rx_us >= (uint64_t)dev->limits.watchdog_ms * US_PER_MS) {
        raise_fault(dev, FES_FAULT_WATCHDOG, FES_NO_SAMPLE);
    }
    if (dev->envelope > 0.0f && now_us - dev->out_on_since_us > (uint64_t)dev->limits.max_on_ms * US_PER_MS) {
        raise_fault(dev, FES_FAULT_MAX_ON_TIME, FES_NO_SAMPLE);
    }
    tick_envelope(dev);
    stream_samples(dev);
}
