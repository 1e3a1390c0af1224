"""The emulated device's protocol logic, driven with a fake clock (no threads, no ports)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.emulator import DeviceLogic, EmulatorConfig
from firmware_bridge.emulator.sources import SyntheticSource
from firmware_bridge.protocol.params import PARAMS
from firmware_bridge.samples import to_host_sample
from firmware_bridge.protocol import (
    Ack,
    ClearFaults,
    EStop,
    Fault,
    FaultReport,
    FrameDecoder,
    GetStatus,
    Heartbeat,
    Hello,
    HelloRequest,
    HostSample,
    Mode,
    Nak,
    NakCode,
    SensorSample,
    SetConfig,
    SetEnvelope,
    SetLimits,
    SetMode,
    SetParam,
    Start,
    Status,
    StimState,
    StimStateReport,
    Stop,
    TimePing,
    TimePong,
    encode,
)


class Bench:
    """A DeviceLogic with a fake clock and a decoder on its output."""

    def __init__(self, clock=None, **config):
        self.out = FrameDecoder()
        self.rx: list[object] = []
        self.applied: list[object] = []
        self.dev = DeviceLogic(EmulatorConfig(**config), self._emit, lambda t, m: self.applied.append(m), clock=clock)
        self.t = 0.0
        self.seq = 0

    def _emit(self, frame: bytes) -> None:
        self.rx += [p.message for p in self.out.feed(frame)]

    def send(self, msg, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        self.dev.receive(encode(msg, seq), self.t)
        return seq

    def advance(self, dt_s, step_s=0.001):
        end = round(self.t + dt_s, 9)
        while self.t < end - 1e-12:
            self.t = min(round(self.t + step_s, 9), end)
            self.dev.tick(self.t)

    def take(self, kind=object):
        got = [m for m in self.rx if isinstance(m, kind)]
        self.rx = [m for m in self.rx if not isinstance(m, kind)]
        return got

    def configured(self, current_ma=30.0):
        self.send(HelloRequest(1))
        self.send(SetConfig(current_ma, 250.0, 40.0, 50, 50, 100, 0))
        self.rx.clear()
        return self


def test_hello_reports_identity_and_maxima():
    b = Bench(device_id=1234)
    seq = b.send(HelloRequest(1))
    (hello,) = b.take(Hello)
    assert hello.req_seq == seq and hello.device_id == 1234 and hello.protocol_version == 2
    assert hello.max_current_ma == 100.0 and hello.watchdog_ms == 250



def test_no_output_before_the_first_hello():
    """Without a session the watchdog is not armed: output-enabling commands are refused with BAD_STATE."""
    b = Bench()
    b.send(SetConfig(30.0, 250.0, 40.0, 0, 0, 0, 0))
    assert b.take(Ack)
    for msg in (Start(0, 0, 0), SetEnvelope(0, 0.5), SetMode(100, int(Mode.HOST_LOOP)), SetMode(100, int(Mode.DEVICE_LOOP))):
        b.send(msg)
        (nak,) = b.take(Nak)
        assert nak.code == NakCode.BAD_STATE, msg
    b.advance(5.0, step_s=0.01)
    assert not b.dev.output_on and b.dev.pulses == 0 and not b.take(StimStateReport)
    b.send(HelloRequest(2))
    (hello,) = b.take(Hello)
    assert hello.max_on_ms == 10_000  # the default stimulator's max_on_time_s
    b.send(SetConfig(30.0, 250.0, 40.0, 0, 0, 0, 0))
    b.send(Start(0, 0, 0))
    assert b.dev.output_on


def test_max_on_time_limit_above_the_hardware_maximum_is_refused():
    b = Bench().configured()
    for max_on_ms in (10_001, 0xFFFFFFFF):
        b.send(SetLimits(100.0, 300.0, 1.0, 50.0, 30.0, max_on_ms, 250))
        (nak,) = b.take(Nak)
        assert (nak.code, nak.detail) == (NakCode.LIMIT_EXCEEDED, 6)


def test_out_of_range_config_is_refused_and_not_applied():
    b = Bench().configured()
    b.applied.clear()
    seq = b.send(SetConfig(150.0, 250.0, 40.0, 0, 0, 0, 0))
    (nak,) = b.take(Nak)
    assert (nak.req_seq, nak.code, nak.detail) == (seq, NakCode.LIMIT_EXCEEDED, 1)
    assert b.applied == [] and b.dev.stim.current_ma == 30.0
    b.send(SetConfig(100.0, 350.0, 40.0, 0, 0, 0, 0))  # 35 µC: at the charge limit
    assert b.take(Ack)
    b.send(SetConfig(100.0, 351.0, 40.0, 0, 0, 0, 0))
    assert b.take(Nak)[0].code == NakCode.LIMIT_EXCEEDED


def test_limits_can_only_be_lowered_and_then_bind():
    b = Bench().configured()
    b.send(SetLimits(120.0, 300.0, 1.0, 50.0, 30.0, 2000, 100))
    assert b.take(Nak)[0].detail == 1
    b.send(SetLimits(20.0, 300.0, 1.0, 50.0, 30.0, 2000, 100))
    assert b.take(Ack)
    assert b.dev.stim is None  # 30 mA no longer allowed: configuration dropped
    b.send(Start(0, 0, 0))
    assert b.take(Nak)[0].code == NakCode.NOT_CONFIGURED
    b.send(SetLimits(20.0, 300.0, 1.0, 50.0, 30.0, 2000, 5))
    assert b.take(Nak)[0].code == NakCode.BAD_VALUE


def test_non_finite_values_are_refused():
    b = Bench().configured()
    b.send(SetEnvelope(0, math.nan))
    b.send(SetConfig(math.inf, 250.0, 40.0, 0, 0, 0, 0))
    assert [n.code for n in b.take(Nak)] == [NakCode.BAD_VALUE, NakCode.BAD_VALUE]
    assert b.dev.envelope == 0.0


def test_start_ramps_up_and_stop_ramps_down_with_reports():
    b = Bench().configured()
    b.send(Start(0, 100, 0))
    b.advance(0.05)
    assert 0.4 < b.dev.envelope < 0.6
    b.advance(0.06)
    assert b.dev.envelope == 1.0 and b.dev.current_ma() == 30.0
    b.send(Stop(50, 0))
    b.advance(0.06)
    states = [(r.prev_state, r.state) for r in b.take(StimStateReport)]
    assert states == [(StimState.IDLE, StimState.RAMP_UP), (StimState.RAMP_UP, StimState.ON),
                      (StimState.ON, StimState.RAMP_DOWN), (StimState.RAMP_DOWN, StimState.IDLE)]
    pulses = b.dev.pulses
    assert 40 * 0.16 - 2 <= pulses <= 40 * 0.16 + 2  # about 160 ms at 40 Hz


def test_watchdog_stops_stimulation_within_timeout_plus_one_tick():
    b = Bench(watchdog_ms=100).configured()
    b.send(Start(0, 0, 0))
    b.advance(0.099)
    assert b.dev.output_on
    b.advance(0.002)
    assert not b.dev.output_on and Fault.WATCHDOG in b.dev.faults
    (fault,) = b.take(FaultReport)
    assert fault.code == Fault.WATCHDOG and fault.active == 1
    b.send(Heartbeat(1))
    assert not b.dev.faults and b.dev.state is StimState.IDLE and not b.dev.output_on


def test_heartbeats_keep_the_watchdog_fed():
    b = Bench(watchdog_ms=100).configured()
    b.send(Start(0, 0, 0))
    for k in range(20):
        b.advance(0.05)
        b.send(Heartbeat(k))
    assert b.dev.output_on and not b.dev.faults


def test_estop_latches_until_cleared():
    b = Bench().configured()
    b.send(Start(0, 0, 0))
    b.send(EStop(0))
    assert not b.dev.output_on and Fault.ESTOP in b.dev.faults
    b.send(Start(0, 0, 0))
    b.send(SetEnvelope(0, 0.5))
    assert [n.code for n in b.take(Nak)] == [NakCode.ESTOP_LATCHED, NakCode.ESTOP_LATCHED]
    b.send(HelloRequest(1))
    assert Fault.ESTOP in b.dev.faults
    b.send(ClearFaults(int(Fault.ESTOP)))
    assert not b.dev.faults
    b.send(SetConfig(30.0, 250.0, 40.0, 0, 0, 0, 0))
    b.send(Start(0, 0, 0))
    assert b.dev.output_on


def test_max_on_time_forces_output_off():
    b = Bench().configured()
    b.send(SetLimits(100.0, 350.0, 1.0, 50.0, 35.0, 300, 1000))
    b.send(SetConfig(30.0, 250.0, 40.0, 0, 0, 0, 0))
    b.send(SetEnvelope(0, 1.0))
    for _ in range(4):
        b.advance(0.1)
        b.send(Heartbeat(0))
    assert not b.dev.output_on and Fault.MAX_ON_TIME in b.dev.faults
    b.send(SetEnvelope(1, 0.5))
    assert b.dev.output_on and not b.dev.faults


def test_retransmitted_command_is_answered_again_but_applied_once():
    b = Bench().configured()
    b.applied.clear()
    seq = b.send(Start(0, 100, 0))
    b.send(Start(0, 100, 0), seq=seq)
    assert [a.req_seq for a in b.take(Ack)] == [seq, seq]
    assert len(b.applied) == 1


def test_duplicate_streamed_frame_is_dropped():
    b = Bench().configured()
    b.applied.clear()
    seq = b.send(SetEnvelope(0, 0.5))
    b.send(SetEnvelope(0, 0.5), seq=seq)
    assert len(b.applied) == 1



def test_frames_the_table_lacks_are_refused_by_name_and_echoes_are_ignored():
    """A good CRC makes the seq trustworthy: an unknown host-to-device id or a wrong length gets a NAK saying so;
    a device-to-host frame (an echo) is dropped silently. All count as receive errors."""
    import struct

    from cobs import cobs

    from firmware_bridge.protocol import crc16

    def raw(msg_id, seq, payload):
        body = struct.pack("<BH", msg_id, seq) + payload
        return cobs.encode(body + struct.pack("<H", crc16(body))) + b"\x00"

    b = Bench().configured()
    b.dev.receive(raw(0x50, 700, b"\x01"), b.t)
    b.dev.receive(raw(Start.DEF.msg_id, 701, b"\x01\x02"), b.t)
    b.dev.receive(raw(Ack.DEF.msg_id, 702, b"\x01\x00\x05\x00"), b.t)
    naks = b.take(Nak)
    assert [(n.req_seq, n.msg_id, n.code) for n in naks] == [
        (700, 0x50, NakCode.UNKNOWN_MESSAGE), (701, Start.DEF.msg_id, NakCode.BAD_LENGTH)]
    assert not b.rx and not b.dev.output_on
    b.send(GetStatus())
    assert b.take(Status)[0].rx_errors == 3


def test_time_ping_and_status():
    b = Bench().configured()
    b.advance(0.01)
    seq = b.send(TimePing(123456789))
    (pong,) = b.take(TimePong)
    assert pong.host_time_us == 123456789 and pong.req_seq == seq and pong.device_rx_us == 10_000
    b.send(GetStatus())
    (status,) = b.take(Status)
    assert status.state == StimState.IDLE and status.mode == Mode.COMMAND and status.rx_errors == 0


def test_host_loop_streams_samples_at_rate():
    b = Bench().configured()
    b.send(SetMode(500, int(Mode.HOST_LOOP)))
    for k in range(10):
        b.advance(0.1)
        b.send(Heartbeat(k))
    samples = b.take(SensorSample)
    assert [s.sample_index for s in samples] == list(range(len(samples)))
    assert len(samples) == 500


def test_samples_sent_late_keep_their_sampling_times():
    """A device that falls behind sends several samples at once, each stamped when it was taken."""
    b = Bench().configured()
    b.send(SetMode(200, int(Mode.HOST_LOOP)))
    b.advance(0.1, step_s=0.023)  # late ticks: up to five samples per tick
    samples = b.take(SensorSample)
    assert len(samples) == 20
    steps_us = {later.t_us - earlier.t_us for earlier, later in zip(samples, samples[1:])}
    assert steps_us <= {4999, 5000, 5001}



def test_host_loop_stream_starts_once_the_source_is_ready():
    """Building the sensor source (the walking simulator) can take long; the stream must not start with a backlog."""
    b = Bench(clock=lambda: b.t + 0.4).configured()  # applying a command takes 400 ms
    b.send(SetMode(200, int(Mode.HOST_LOOP)))  # arrives at t = 0
    b.advance(0.45)
    samples = b.take(SensorSample)
    assert len(samples) == 10 and samples[0].t_us == 405_000


def test_device_loop_refuses_host_commands_for_the_output():
    b = Bench().configured()
    b.send(SetMode(200, int(Mode.DEVICE_LOOP)))
    assert b.take(Ack)
    b.send(SetEnvelope(0, 0.5))
    b.send(Start(0, 0, 0))
    assert [n.code for n in b.take(Nak)] == [NakCode.BAD_STATE, NakCode.BAD_STATE]
    b.send(SetConfig(20.0, 250.0, 40.0, 50, 50, 100, 0))  # output off: accepted, controller rebuilt
    assert b.take(Ack) and b.dev.pipeline.config.stimulation.current_ma == 20.0
    b.send(Stop(0, 0))
    assert b.take(Ack) and b.dev.mode is Mode.DEVICE_LOOP and not b.dev.output_on



def test_limits_lowered_in_device_loop_stop_the_old_configuration():
    """SET_CONFIG(40 mA, 300 µs) → DEVICE_LOOP → SET_LIMITS(100 µs): HOST_SAMPLE refused, never 300 µs."""
    from firmware_bridge.emulator.sources import SyntheticSource
    from firmware_bridge.samples import to_host_sample

    b = Bench()
    b.send(HelloRequest(1))
    b.send(SetConfig(40.0, 300.0, 40.0, 0, 0, 100, 0))
    b.send(SetMode(100, int(Mode.DEVICE_LOOP)))
    b.send(SetLimits(100.0, 100.0, 1.0, 50.0, 35.0, 5000, 1000))
    assert len(b.take(Ack)) == 3
    src = SyntheticSource(100)
    for i in range(500):
        b.send(to_host_sample(i, i * 10_000, src.step(0.0, 0.0, 0.0)))
        b.advance(0.01, step_s=0.01)
        assert not b.dev.output_on
    naks = b.take(Nak)
    assert len(naks) == 500 and {n.code for n in naks} == {NakCode.NOT_CONFIGURED}


def test_output_beyond_the_limits_is_never_applied_even_with_a_corrupted_configuration():
    b = Bench().configured()
    b.send(Start(0, 100, 0))
    b.advance(0.02)
    assert b.dev.output_on
    b.dev.limits.max_pulse_width_us = 200.0  # behind the checks' back, as a memory fault would
    b.advance(0.002)
    assert not b.dev.output_on and Fault.LIMIT in b.dev.faults
    assert [r.state for r in b.take(StimStateReport)][-1] == StimState.FAULT



def test_device_loop_ignores_samples_while_a_fault_is_active():
    """The device's controller does not run during a fault: no events, no state reports, output off."""
    from firmware_bridge.protocol import DeviceEvent

    b = Bench().configured()
    b.send(SetMode(100, int(Mode.DEVICE_LOOP)))
    b.send(EStop(0))
    b.rx.clear()
    walk = SyntheticSource(100)
    for i in range(300):
        b.send(to_host_sample(i, i * 10_000, walk.step(0.0, 0.0, 0.0)))
        b.advance(0.01, step_s=0.01)
    assert not b.take(DeviceEvent) and not b.take(StimStateReport) and not b.take(Nak) and not b.dev.output_on
    b.send(ClearFaults(int(Fault.ESTOP)))
    for i in range(300, 600):
        b.send(to_host_sample(i, i * 10_000, walk.step(0.0, 0.0, 0.0)))
        b.advance(0.01, step_s=0.01)
    assert b.take(DeviceEvent)  # and runs again once the fault is cleared


_ANY_F32 = st.floats(width=32)
_RATES_HZ = (100, 200)


@dataclass(frozen=True)
class Walk:
    """Stream ``duration_s`` of HOST_SAMPLE frames of a walk-like signal, one sample period apart."""

    duration_s: float


def _within(lo: float, hi: float):
    return st.floats(lo, hi)  # binary32 on the wire; the device checks the rounded value


def _param():
    """SET_PARAM with a valid value of a random parameter, or anything."""
    def valid(pdef):
        if pdef.choices:
            return st.sampled_from([float(i) for i in range(len(pdef.choices))])
        return st.floats(pdef.lo, pdef.hi, exclude_min=pdef.lo_open)
    good = st.sampled_from(sorted(PARAMS)).flatmap(lambda pid: st.builds(SetParam, valid(PARAMS[pid]), st.just(pid)))
    return st.one_of(good, st.builds(SetParam, st.floats(), st.integers(0, len(PARAMS) + 2)))


# configurations and limits mostly inside the default stimulator's maxima (100 mA, 350 µs, 50 Hz, 35 µC),
# one in four wild
_GOOD_CONFIG = st.builds(SetConfig, _within(1, 40), _within(20, 300), _within(10, 20), st.integers(0, 200),
                         st.integers(0, 200), st.integers(0, 200), st.just(0))
_CONFIG = st.one_of(_GOOD_CONFIG, _GOOD_CONFIG, _GOOD_CONFIG, st.builds(
    SetConfig, _ANY_F32, _ANY_F32, _ANY_F32, st.integers(0, 500), st.integers(0, 500), st.integers(0, 500),
    st.integers(0, 2)))
_GOOD_LIMITS = st.builds(SetLimits, _within(40, 100), _within(300, 350), _within(1, 10), _within(20, 50),
                         _within(12, 35), st.integers(2000, 10_000), st.integers(100, 1000))
_LIMITS = st.one_of(_GOOD_LIMITS, _GOOD_LIMITS, _GOOD_LIMITS, st.builds(
    SetLimits, *[_ANY_F32] * 5, st.integers(0, 20_000), st.integers(0, 2000)))
#: limits that cut into the configurations above (sent once the output has been on)
_BINDING_LIMITS = st.builds(SetLimits, _within(5, 100), _within(30, 350), _within(1, 30), _within(10, 50),
                            _within(1, 35), st.integers(100, 10_000), st.integers(100, 1000))
_COMMANDS = st.one_of(
    _CONFIG, _LIMITS, _BINDING_LIMITS, _param(),
    st.builds(Walk, st.floats(0.2, 2.5)),
    st.builds(SetEnvelope, st.integers(0, 10), st.one_of(_within(0, 1), _ANY_F32)),
    st.builds(Start, st.integers(0, 6000), st.integers(0, 500), st.integers(0, 1)),
    st.builds(Stop, st.integers(0, 500), st.integers(0, 1)),
    st.builds(SetMode, st.sampled_from(_RATES_HZ), st.integers(0, 3)),
    st.builds(HostSample, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), *[_ANY_F32] * 7, st.integers(0, 255)),
    st.builds(EStop, st.integers(0, 255)),
    st.builds(ClearFaults, st.integers(0, 0xFFFF)),
)
#: what switches the output on in each mode, sent right after SET_MODE
_OPENING = {
    Mode.COMMAND: st.builds(Start, st.integers(0, 2000), st.integers(0, 200), st.just(0)),
    Mode.HOST_LOOP: st.builds(SetEnvelope, st.integers(0, 10), _within(0.05, 1)),
    Mode.DEVICE_LOOP: st.builds(Walk, st.floats(2.5, 4.0)),  # the detector needs two strides or so
}


def _scenario(mode: Mode):
    """A valid opening (limits, configuration, rate, the mode's way to switch on), then anything."""
    return st.tuples(st.lists(_GOOD_LIMITS, max_size=1), _GOOD_CONFIG, st.sampled_from(_RATES_HZ), _OPENING[mode],
                     st.lists(st.tuples(_COMMANDS, st.floats(0, 0.05)), max_size=25))


def _assert_output_within_limits(dev: DeviceLogic) -> None:
    assert 0.0 <= dev.envelope <= 1.0
    if dev.output_on:
        lim, s = dev.limits, dev.stim
        assert s is not None and dev.session_open and not dev.faults
        assert dev.current_ma() <= lim.max_current_ma + 1e-6
        assert 0 < s.pulse_width_us <= lim.max_pulse_width_us
        assert lim.min_frequency_hz <= s.frequency_hz <= lim.max_frequency_hz
        assert dev.current_ma() * s.pulse_width_us * 1e-3 <= lim.max_charge_uc + 1e-6


@pytest.mark.parametrize("mode", list(_OPENING), ids=lambda m: m.name.lower())
def test_output_never_exceeds_limits_whatever_the_host_sends(mode):
    """Safety property: current, width, rate and charge stay within the limits in force, in every mode.

    Each case opens a session, sets valid limits and a configuration, enters
    ``mode`` and switches the output on the mode's way (START, SET_ENVELOPE, or
    a walk-like HOST_SAMPLE stream for the device's own controller), then sends
    any mix of commands (mode changes, limits that cut into the configuration,
    SET_PARAM, valid or wild values), walks and garbage. The invariant is checked after every frame and every 5 ms
    tick. So that the property cannot hold vacuously, the output must have been
    on in most cases (in ``mode`` itself).
    """
    on_in_mode: list[bool] = []

    @settings(max_examples=50, deadline=None, database=None)
    @given(_scenario(mode))
    def run(scenario):
        limits, config, rate_hz, opening, commands = scenario
        b = Bench(source="synthetic")
        walk, index, seen = SyntheticSource(rate_hz), 0, [False]

        def check():
            _assert_output_within_limits(b.dev)
            seen[0] |= b.dev.output_on and b.dev.mode is mode

        def step(msg, dt_s):
            b.send(msg)
            check()
            end = b.t + dt_s
            while b.t < end - 1e-9:
                b.advance(min(0.005, end - b.t), step_s=0.005)
                check()

        for msg in [HelloRequest(2), *limits, config, SetMode(rate_hz, int(mode))]:
            step(msg, 0.0)
        for msg, dt_s in [(opening, 0.05), *commands]:
            if isinstance(msg, Walk):
                for _ in range(round(msg.duration_s * rate_hz)):
                    step(to_host_sample(index, round(index * 1e6 / rate_hz), walk.step(0.0, 0.0, 0.0)), 1.0 / rate_hz)
                    index += 1
            else:
                step(msg, dt_s)
        on_in_mode.append(seen[0])

    run()
    assert sum(on_in_mode) >= 0.6 * len(on_in_mode), f"{mode.name} output on in only {sum(on_in_mode)} of {len(on_in_mode)} cases"


def test_wire_timing_at_a_stated_baud_rate():
    """At 9600 bit/s a 15-byte TIME_PING and a 27-byte TIME_PONG take about 44 ms on the wire."""
    from firmware_bridge.link.fes_link import FesLink

    with FesLink.open("fesemu://?baudrate=9600", request_timeout_s=0.5) as slow, FesLink.open("fesemu://") as fast:
        rtt_slow = min(slow.ping().round_trip_s for _ in range(3))
        rtt_fast = min(fast.ping().round_trip_s for _ in range(3))
    assert 0.040 < rtt_slow < 0.080 and rtt_fast < 0.01


def test_recording_source_refuses_a_different_rate(nonan_dir):
    from fes_sim.errors import RecordingError
    from firmware_bridge.emulator.sources import RecordingSource

    src = RecordingSource(str(nonan_dir / "healthy_young.csv"), 200.0)
    src.reset(0)
    assert math.isfinite(src.step(0.0, 0.0, 0.0).tilt_deg)
    with pytest.raises(RecordingError, match="Hz"):
        RecordingSource(str(nonan_dir / "healthy_young.csv"), 1000.0)
