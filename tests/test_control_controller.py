"""The stimulation state machine: timing, modes, faults and the pulse train."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detect_helpers import samples, walk
from fes_sim.control.config import ControllerConfig, ExerciseConfig, StimulationConfig
from fes_sim.control.controller import STATE_LABELS, StimController
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.samples import GaitEvent, ShankSample

FS = 200.0
DT = 1.0 / FS
HO, HS = GaitEvent.HEEL_OFF, GaitEvent.HEEL_STRIKE


def drive(ctrl, duration_s, events=(), faults=(), aborts=(), t0=0.0):
    """Run the controller at FS from ``t0``; events/faults/aborts are lists of sample times."""
    ev = {round(t * FS): e for t, e in events}
    fl = {round(t * FS) for t in faults}
    ab = {round(t * FS) for t in aborts}
    trace = []
    for i in range(int(duration_s * FS)):
        t = t0 + i * DT
        env = ctrl.update(t, ev.get(i, GaitEvent.NONE), 1 if i in fl else 0, i in ab)
        trace.append((t, STATE_LABELS[ctrl.state], env, ctrl.flags))
    return trace


def spans(trace):
    """(state, start, end) runs of the state sequence."""
    out = []
    for t, s, _, _ in trace:
        if out and out[-1][0] == s:
            out[-1][2] = t
        else:
            out.append([s, t, t])
    return [(s, a, b) for s, a, b in out]


def test_stride_sequence_and_timing():
    ctrl = StimController(ControllerConfig(), FS)
    trace = drive(ctrl, 1.5, events=[(0.2, HO), (0.8, HS)])
    seq = [s for s, _, _ in spans(trace)]
    assert seq == ["idle", "ramp_up", "on", "extension", "ramp_down", "idle"]
    d = {s: (a, b) for s, a, b in spans(trace)}
    assert d["ramp_up"][0] == pytest.approx(0.2)
    assert d["on"][0] == pytest.approx(0.2 + 0.08 - DT, abs=DT + 1e-9)  # 80 ms ramp, first step at onset
    assert d["extension"][0] == pytest.approx(0.8)
    assert d["ramp_down"][0] == pytest.approx(0.9)  # 100 ms extension
    env = np.array([e for _, _, e, _ in trace])
    assert env.max() == 1.0 and env[-1] == 0.0
    assert np.all(np.diff(env[(np.arange(env.size) * DT) < 0.28]) >= 0)  # monotonic ramp up


def test_delay_state_and_cancel_by_heel_strike():
    cfg = ControllerConfig(stimulation=StimulationConfig(delay_ms=100.0))
    trace = drive(StimController(cfg, FS), 1.0, events=[(0.2, HO), (0.6, HS)])
    d = {s: a for s, a, _ in spans(trace)}
    assert d["delay"] == pytest.approx(0.2) and d["ramp_up"] == pytest.approx(0.3)
    trace = drive(StimController(cfg, FS), 1.0, events=[(0.2, HO), (0.25, HS)])
    assert max(e for _, _, e, _ in trace) == 0.0


def test_max_on_time_forces_ramp_down_and_flags():
    cfg = ControllerConfig(stimulation=StimulationConfig(max_on_time_s=1.0))
    trace = drive(StimController(cfg, FS), 3.0, events=[(0.2, HO)])
    on_t = [t for t, _, e, _ in trace if e > 0]
    assert on_t[-1] - on_t[0] < 1.0
    assert any(f for *_, f in trace)
    assert trace[-1][1] == "idle"


def test_min_off_time_between_bursts():
    cfg = ControllerConfig(stimulation=StimulationConfig(extension_ms=0.0, ramp_down_ms=20.0, min_off_time_ms=300.0))
    trace = drive(StimController(cfg, FS), 3.0, events=[(0.1, HO), (0.4, HS), (0.6, HO), (0.65, HS), (1.2, HO), (1.5, HS), (1.7, HO)])
    onsets = [t for (t0, _, e0, _), (t, _, e, _) in zip(trace, trace[1:]) if e0 == 0 and e > 0]
    # burst 1 ends at 0.42: the heel-off at 0.6 waits for 0.72, but heel strike at 0.65 cancels it;
    # burst 2 ends at 1.52: the heel-off at 1.7 waits and starts at 1.82
    assert onsets == pytest.approx([0.1, 1.2, 1.82])


def test_abort_ramps_down():
    trace = drive(StimController(ControllerConfig(), FS), 1.0, events=[(0.1, HO)], aborts=[0.3])
    assert [s for s, _, _ in spans(trace)][-2:] == ["ramp_down", "idle"]


def test_percent_timing_uses_running_stance_and_swing():
    cfg = ControllerConfig(stimulation=StimulationConfig(timing="percent", extension_pct=50.0, delay_pct=10.0))
    ctrl = StimController(cfg, FS)
    events = []
    for k in range(20):  # stance 0.8 s: HS at k, TO at k + 0.8
        events += [(k + 0.0, HS), (k + 0.55, HO), (k + 0.8, GaitEvent.TOE_OFF)]
    drive(ctrl, 20.5, events=events)
    assert ctrl.avg_stance_s == pytest.approx(0.8, abs=0.02)
    assert ctrl.avg_swing_s == pytest.approx(0.2, abs=0.02)
    assert ctrl._extension_s() == pytest.approx(0.1, abs=0.01)  # 50 % of the 0.2 s swing
    assert ctrl._delay_s() == pytest.approx(0.08, abs=0.01)


def test_test_burst_and_manual_trigger():
    ctrl = StimController(ControllerConfig(stimulation=StimulationConfig(test_burst_ms=500.0)), FS)
    ctrl.test_burst()
    trace = drive(ctrl, 1.0)
    on_t = [t for t, _, e, _ in trace if e > 0]
    assert on_t[0] == 0.0 and 0.45 <= on_t[-1] <= 0.5
    ctrl = StimController(ControllerConfig(), FS)
    ctrl.set_manual(True)
    first = drive(ctrl, 0.5)
    ctrl.set_manual(False)
    second = drive(ctrl, 0.3, t0=0.5)
    assert first[-1][1] == "on" and second[-1][1] == "idle"


def test_exercise_mode_cycles_and_stops():
    cfg = ControllerConfig(mode="exercise", exercise=ExerciseConfig(on_s=1.0, off_s=1.0, total_s=6.0))
    trace = drive(StimController(cfg, FS), 10.0)
    env = np.array([e for _, _, e, _ in trace])
    t = np.array([x for x, *_ in trace])
    onsets = t[1:][(env[1:] > 0) & (env[:-1] == 0)]
    assert len(onsets) == 2 and onsets[0] == pytest.approx(2.0)  # the first burst starts at t=0
    assert env[0] > 0 and env[t >= 6.0].max() == 0.0
    burst = t[(env > 0) & (t < 2.0)]
    assert burst[-1] - burst[0] < 1.0


def test_off_mode_never_stimulates():
    trace = drive(StimController(ControllerConfig.off(), FS), 2.0, events=[(0.1, HO), (0.8, HS)])
    assert max(e for _, _, e, _ in trace) == 0.0


def test_fault_ramps_down_within_bound_and_recovers():
    cfg = ControllerConfig()
    ctrl = StimController(cfg, FS)
    n_bound = math.ceil(cfg.faults.fault_ramp_down_ms * 1e-3 * FS)
    trace = drive(ctrl, 2.0, events=[(0.1, HO)], faults=[x * DT for x in range(60, 80)])
    env = np.array([e for _, _, e, _ in trace])
    assert env[59] == 1.0
    assert env[59 + n_bound] == 0.0 and trace[59 + n_bound][1] == "fault"
    assert trace[85][1] == "idle"


def test_pulse_train_consistent_with_envelope():
    pulses = []
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig(), FS, pulse_sink=pulses)
    t, tilt, *_ , truth = walk(n_strides=10)
    outs = []
    total_charge = 0.0
    for s in samples(t, tilt):
        o = pipe.update(s)
        outs.append((o.t_s, o.envelope, o.current_ma, o.pulses))
        total_charge += o.charge_uc
    arr = np.array(outs)
    assert sum(int(n) for *_, n in outs) == len(pulses) > 0
    st = ControllerConfig().stimulation
    it = iter(pulses)
    for t_k, env, cur, n in outs:  # each sample's pulses, in order, lie in its period at its amplitude
        for _ in range(n):
            p = next(it)
            assert t_k - 1e-9 <= p.t_s < t_k + DT + 1e-9
            assert env > 0 and p.current_ma == pytest.approx(env * st.current_ma) == pytest.approx(cur)
            assert p.pulse_width_us == st.pulse_width_us
    assert total_charge == pytest.approx(sum(p.current_ma * p.pulse_width_us * 1e-3 for p in pulses))
    # pulse rate inside bursts equals the programmed frequency
    times = np.array([p.t_s for p in pulses])
    gaps = np.diff(times)
    assert np.median(gaps) == pytest.approx(1.0 / st.frequency_hz)
    assert gaps.min() >= 1.0 / st.frequency_hz - 1e-9
    # no pulse while the envelope is zero
    assert np.all(arr[arr[:, 1] == 0, 3] == 0) and np.all(arr[arr[:, 1] == 0, 2] == 0)


def test_pipeline_output_contract():
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig())
    s = ShankSample(0.0, tilt_deg=1.0)
    o1 = pipe.update(s)
    o2 = pipe.update(ShankSample(0.005, tilt_deg=1.0))
    assert o1 is o2
    assert o2.state == "idle" and o2.current_ma == 0.0 and o2.faults == "" and o2.event == GaitEvent.NONE
    assert o2.pulse_width_us == 250.0 and o2.frequency_hz == 40.0
    o = pipe.update(ShankSample(0.010))
    assert o.faults == "missing" and o.state == "fault"
    pipe.reset()
    assert pipe.out.faults == "" and pipe.out.state == "idle"
    for part in (pipe.detector, pipe.controller, pipe.estimator):
        part.reset()


@pytest.mark.parametrize("waveform", ["symmetric", "asymmetric"])
def test_biphasic_phases_are_charge_balanced(waveform):
    from fes_sim.control.controller import Pulse
    from fes_sim.control.waveform import pulse_phases

    (a1, w1), (a2, w2) = pulse_phases(Pulse(0.0, 40.0, 250.0), waveform, 4.0)
    assert (a1, w1) == (40.0, 250.0)
    assert a1 * w1 + a2 * w2 == pytest.approx(0.0)
    assert (a2 == -40.0) == (waveform == "symmetric")


@pytest.mark.parametrize(
    "bad, flag",
    [
        (dict(tilt_deg=math.nan), "missing"),
        (dict(tilt_deg=math.inf), "nonfinite"),
        (dict(tilt_deg=120.0), "saturated"),
        (dict(dt=0.2), "time_gap"),
        (dict(dt=-0.5), "time_backwards"),
    ],
)
def test_each_sensor_fault_flags_and_stops_stimulation(bad, flag):
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig(), FS)
    pipe.set_manual(True)  # keep stimulation on until the fault
    t = 0.0
    for _ in range(100):
        t += DT
        o = pipe.update(ShankSample(t, tilt_deg=5.0 + 0.01 * (t % 1)))
    assert o.envelope == 1.0 and o.faults == ""
    t += bad.get("dt", DT)
    o = pipe.update(ShankSample(t, tilt_deg=bad.get("tilt_deg", 5.0)))
    assert flag in o.faults.split("|")
    n_bound = math.ceil(ControllerConfig().faults.fault_ramp_down_ms * 1e-3 * FS)
    for k in range(n_bound - 1):
        t += DT
        o = pipe.update(ShankSample(t, tilt_deg=5.0 + 0.001 * k))
    assert o.envelope == 0.0 and o.state == "fault" and flag in o.faults
    for k in range(200):  # recover_ms of clean input clears the fault
        t += DT
        o = pipe.update(ShankSample(t, tilt_deg=5.0 + 0.001 * k))
    assert o.faults == "" and o.envelope > 0.0  # the hand switch is still pressed


def test_stuck_sensor_is_a_fault():
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig(), FS)
    flags = [pipe.update(ShankSample(i * DT, tilt_deg=3.0)).faults for i in range(400)]
    assert flags[150] == "" and flags[250] == "stuck"
