"""Property tests: arbitrary sample streams never break the safety rules.

Streams mix plausible walking tilt with NaN, inf, huge values, time gaps, time
going backwards, repeated (stuck) values, manual presses and test bursts.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fes_sim.control.config import ControllerConfig, ExerciseConfig, StimulationConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.samples import ShankSample

FS = 200.0
LIMITS = StimulatorConfig()

values = st.one_of(
    st.floats(-40, 60),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
)
steps = st.one_of(
    st.just(1 / FS),
    st.floats(0.0, 0.2),
    st.floats(-1.0, 0.0),
    st.sampled_from([math.nan, math.inf, 1e6]),
)
actions = st.sampled_from(["none"] * 20 + ["press", "release", "burst", "hold"])
streams = st.lists(st.tuples(steps, values, actions), min_size=1, max_size=600)

CONFIGS = [
    ControllerConfig(),
    ControllerConfig(stimulation=StimulationConfig(max_on_time_s=0.6, ramp_up_ms=50.0, ramp_down_ms=50.0, min_off_time_ms=50.0,
                                                   current_ma=60.0, pulse_width_us=300.0, frequency_hz=50.0)),
    ControllerConfig(mode="exercise", exercise=ExerciseConfig(on_s=1.0, off_s=0.5, total_s=30.0)),
]


def _walk_tilt(i: int) -> float:
    return 15.0 - 30.0 * math.cos(2 * math.pi * i / FS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams, st.sampled_from(range(len(CONFIGS))), st.booleans())
def test_arbitrary_streams_are_safe(stream, cfg_index, walk_prefix):
    cfg = CONFIGS[cfg_index]
    pulses = []
    pipe = DevicePipeline(cfg, LIMITS, FS, pulse_sink=pulses)
    stim = cfg.stimulation
    fault_n = math.ceil(cfg.faults.fault_ramp_down_ms * 1e-3 * FS)
    t = 0.0
    rows = []
    samples = []
    if walk_prefix:  # a few strides of clean walking so that bursts are running when trouble starts
        samples = [(i / FS, _walk_tilt(i), "none") for i in range(400)]
        t = 400 / FS
    for dt, v, a in stream:
        t = t + dt if math.isfinite(dt) else dt
        samples.append((t, v, a))
    for ts, v, a in samples:
        if a == "press":
            pipe.set_manual(True)
        elif a == "release":
            pipe.set_manual(False)
        elif a == "burst":
            pipe.test_burst()
        o = pipe.update(ShankSample(ts, tilt_deg=v))
        rows.append((ts, o.envelope, o.current_ma, o.pulses, o.charge_uc, o.faults))
        # every output is within the programmed, checked settings
        assert 0.0 <= o.envelope <= 1.0
        assert 0.0 <= o.current_ma <= stim.current_ma + 1e-9 <= LIMITS.max_current_ma + 1e-9
        assert o.pulse_width_us <= LIMITS.max_pulse_width_us and o.frequency_hz <= LIMITS.max_frequency_hz
        assert o.charge_uc <= o.pulses * LIMITS.max_charge_per_phase_uc + 1e-9
        assert (o.current_ma == 0.0) == (o.envelope == 0.0)
    for p in pulses:
        assert 0 < p.current_ma <= LIMITS.max_current_ma and p.pulse_width_us <= LIMITS.max_pulse_width_us
        assert p.current_ma * p.pulse_width_us * 1e-3 <= LIMITS.max_charge_per_phase_uc + 1e-9

    sensor_fault = [bool(f) and f != "max_on_time" for *_, f in rows]
    # a fault turns stimulation off within the bound (faults latch for recover_ms > the bound)
    for i, bad in enumerate(sensor_fault):
        if bad and (i == 0 or not sensor_fault[i - 1]) and i + fault_n - 1 < len(rows):
            assert rows[i + fault_n - 1][1] == 0.0, (i, rows[i - 1: i + fault_n])
    # a fault-free burst ends within max on-time (sample time)
    max_on = max(stim.max_on_time_s, cfg.exercise.on_s if cfg.mode == "exercise" else 0.0)
    start = None
    for i, (ts, env, *_rest) in enumerate(rows):
        if env > 0 and start is None:
            start, clean = i, True
        if start is not None:
            clean = clean and not sensor_fault[i]
            if env == 0.0:
                if clean:
                    assert ts - rows[start][0] <= max_on + 1e-9
                start = None
