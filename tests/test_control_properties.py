"""Property tests: arbitrary sample streams never break the safety rules.

Streams mix plausible walking with NaN, inf and huge values on every channel (tilt,
accelerometer, gyro, heel switch), time gaps, time going backwards or crawling, repeated
(stuck) values, manual presses and test bursts, for each detector and estimator input.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fes_sim.control.config import ControllerConfig, EstimatorConfig, ExerciseConfig, StimulationConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from detect_helpers import walk
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
    st.floats(1e-7, 1e-3),  # a clock running slow
    st.floats(-1.0, 0.0),
    st.sampled_from([math.nan, math.inf, 1e6]),
)
actions = st.sampled_from(["none"] * 20 + ["press", "release", "burst", "hold"])
# each sample: time step, then tilt, acc_x, acc_y, acc_z, gyr_z, footswitch
channels = st.tuples(values, values, values, values, values, st.sampled_from([0.0, 1.0, 0.5, math.nan, math.inf]))
streams = st.lists(st.tuples(steps, st.one_of(channels, values), actions), min_size=1, max_size=600)
_FIELDS = ("tilt_deg", "acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_z_dps", "footswitch")

_SHORT = StimulationConfig(max_on_time_s=0.6, ramp_up_ms=50.0, ramp_down_ms=50.0, min_off_time_ms=50.0,
                           current_ma=60.0, pulse_width_us=300.0, frequency_hz=50.0)
CONFIGS = [
    ControllerConfig(),
    ControllerConfig(stimulation=_SHORT),
    ControllerConfig(mode="exercise", exercise=ExerciseConfig(on_s=1.0, off_s=0.5, total_s=30.0)),
    ControllerConfig(estimator=EstimatorConfig(source="imu"), stimulation=_SHORT),
    ControllerConfig(detector="gyro", estimator=EstimatorConfig(source="imu")),
    ControllerConfig(detector="footswitch", stimulation=StimulationConfig(timing="percent", extension_pct=30.0)),
]


def _walk_samples(n: int) -> list[ShankSample]:
    """Clean walking (Winter's shank tilt, 1 s strides): tilt, gyro, accelerometer and a heel
    switch loaded over the first 40 % of each stride (heel strike to heel-off)."""
    t, tilt, gyr, ax, ay, _ = walk(n_strides=math.ceil(n / FS) + 1, fs=FS)
    return [ShankSample(float(t[i]), tilt_deg=float(tilt[i]), acc_x_mps2=float(ax[i]), acc_y_mps2=float(ay[i]), acc_z_mps2=0.0,
                        gyr_z_dps=float(gyr[i]), footswitch=1.0 if (t[i] % 1.0) < 0.4 else 0.0) for i in range(n)]


def _sample(t: float, v) -> ShankSample:
    if isinstance(v, tuple):
        return ShankSample(t, **dict(zip(_FIELDS, v)))
    return ShankSample(t, tilt_deg=v)  # a tilt-only sensor


def _run_and_check(cfg: ControllerConfig, samples: list[tuple[ShankSample, str]]) -> list[tuple]:
    """Feed ``(sample, action)`` pairs through a device and assert every safety rule; returns the output rows."""
    pulses = []
    pipe = DevicePipeline(cfg, LIMITS, FS, pulse_sink=pulses)
    stim = cfg.stimulation
    fault_n = math.ceil(cfg.faults.fault_ramp_down_ms * 1e-3 * FS)
    rows = []
    for sample, a in samples:
        ts = sample.t_s
        if a == "press":
            pipe.set_manual(True)
        elif a == "release":
            pipe.set_manual(False)
        elif a == "burst":
            pipe.test_burst()
        o = pipe.update(sample)
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
    # never more pulses in a sample period than the frequency allows
    assert all(n <= int(stim.frequency_hz / FS) + 1 for *_, n, _c, _f in rows)

    sensor_fault = [bool(f) and f != "max_on_time" for *_, f in rows]
    # a fault turns stimulation off within the bound (faults latch for recover_ms > the bound)
    for i, bad in enumerate(sensor_fault):
        if bad and (i == 0 or not sensor_fault[i - 1]) and i + fault_n - 1 < len(rows):
            assert rows[i + fault_n - 1][1] == 0.0, (i, rows[i - 1: i + fault_n])
    # every burst ends within max on-time, counted in samples at the nominal rate (whatever
    # the time stamps say), and a fault-free one also in sample time
    max_on = max(stim.max_on_time_s, cfg.exercise.on_s if cfg.mode == "exercise" else 0.0)
    start = None
    for i, (ts, env, *_rest) in enumerate(rows):
        if env > 0 and start is None:
            start, clean = i, True
        if start is not None:
            clean = clean and not sensor_fault[i]
            assert i - start < max_on * FS + 1, f"burst from sample {start} still on at sample {i}"
            if env == 0.0:
                if clean:
                    assert ts - rows[start][0] <= max_on + 1e-9
                start = None
    return rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams, st.sampled_from(range(len(CONFIGS))), st.booleans())
def test_arbitrary_streams_are_safe(stream, cfg_index, walk_prefix):
    samples = []
    t = 0.0
    if walk_prefix:  # a few strides of clean walking so that bursts are running when trouble starts
        samples = [(w, "none") for w in _walk_samples(400)]
        t = 400 / FS
    for dt, v, a in stream:
        t = t + dt if math.isfinite(dt) else dt
        samples.append((_sample(t, v), a))
    _run_and_check(CONFIGS[cfg_index], samples)


GAIT_CONFIGS = [c for c in CONFIGS if c.mode == "gait"]
bad_values = st.sampled_from([math.nan, math.inf, -math.inf, 1e6, -1e6, 1e300, 0.0])
injections = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(1, 80), st.sampled_from(_FIELDS + ("t_s",)), bad_values), min_size=1, max_size=3
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(injections, st.sampled_from(range(len(GAIT_CONFIGS))))
@example(bad=[(1, 1, "gyr_z_dps", math.inf)], cfg_index=0)  # the gyro giving a tilt channel's rate goes bad
def test_faults_injected_into_a_walk_stop_stimulation_and_walking_resumes_it(bad, cfg_index):
    """Bad values on one channel (or a broken clock) for a while in the middle of a walk:
    output stays within every limit and stops within the bound, and once the sensor is
    healthy again the device stimulates the strides that follow (the spike left no trace)."""
    n = 4000  # 20 strides
    samples = []
    for i, s in enumerate(_walk_samples(n)):
        for start, length, field, value in bad:
            if start <= i < start + length:
                if field == "t_s":
                    s.t_s = value if not math.isfinite(value) else s.t_s - 0.5
                else:
                    setattr(s, field, value)
        samples.append((s, "none"))
    rows = _run_and_check(GAIT_CONFIGS[cfg_index], samples)
    last_bad = max(start + length for start, length, *_ in bad)
    later = [env for k, (_t, env, *_r) in enumerate(rows) if k >= last_bad + 5 * FS]  # 5 s after the last fault
    assert later and max(later) == 1.0, "stimulation did not resume after the sensor recovered"
