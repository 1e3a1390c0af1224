"""Detectors on synthetic walks: every event found, none while standing."""

from __future__ import annotations

import numpy as np
import pytest

from detect_helpers import run, samples, walk
from fes_sim.control.config import ControllerConfig, EstimatorConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.detection.scoring import score_events
from fes_sim.device import DevicePipeline
from fes_sim.samples import GaitEvent

STIM = StimulatorConfig()


def _score(events, truth, t_start, t_end):
    return score_events(truth, events, 0.15, (t_start, t_end))


@pytest.mark.parametrize(
    "kw",
    [
        dict(),  # Winter's healthy stride
        dict(stride_s=1.5, stance=0.68, scale=0.5, offset_deg=-5.0, cv=0.05, seed=1),  # slow, small range
        dict(stride_s=0.85, stance=0.58, scale=1.1, cv=0.03, seed=2),  # fast
    ],
    ids=["healthy", "slow-small", "fast"],
)
@pytest.mark.parametrize("detector", ["tilt", "gyro"])
def test_every_event_detected(kw, detector):
    t, tilt, gyr, ax, ay, truth = walk(n_strides=25, **kw)
    cfg = ControllerConfig(detector=detector, estimator=EstimatorConfig(source="tilt" if detector == "tilt" else "imu"))
    pipe = DevicePipeline(cfg, STIM)
    events, env, _, faults = run(pipe, samples(t, tilt, gyr, ax, ay))
    # an uncalibrated detector learns the walker over its first strides
    scores = _score(events, truth, 3.5 * kw.get("stride_s", 1.0), t[-1] - 0.5)
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF):
        s = scores[ev]
        assert s.sensitivity == 1.0 and s.precision == 1.0, (ev, s.summary())
    # heel strike within 20 ms; toe-off is early on Winter-shaped strides, whose
    # rate peak leads toe-off by 7 % of the stride (NONAN: 35-40 ms), so within 8 %
    hs, to = scores[GaitEvent.HEEL_STRIKE], scores[GaitEvent.TOE_OFF]
    assert np.median(np.abs(hs.errors_ms)) <= 20.0, hs.summary()
    assert np.median(np.abs(to.errors_ms)) <= 80.0 * kw.get("stride_s", 1.0), to.summary()
    assert not any(faults)


@pytest.mark.parametrize("stride_s", [1.0, 1.3])
def test_tilt_trigger_finds_a_walker_with_a_15_degree_tilt_range(stride_s):
    """A stiff, slow walker whose shank swings through 15 deg (a fifth of Winter's) and never
    tilts forward past 11 deg: the trigger starts from a small span, learns the low peak rate
    per degree of rotation, and every stride is found once it has locked on."""
    t, tilt, gyr, _, _, truth = walk(n_strides=40, stride_s=stride_s, stance=0.66, scale=0.2, cv=0.03, seed=1, fs=100.0)
    pipe = DevicePipeline(ControllerConfig(estimator=EstimatorConfig(source="tilt")), STIM, 100.0)
    events, env, _, _ = run(pipe, samples(t, tilt, gyr))
    scores = _score(events, truth, 9 * stride_s, t[-1] - 0.5)  # lock-on: about six strides to learn the small range, two more to trust it
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF):
        assert scores[ev].sensitivity == 1.0 and scores[ev].precision == 1.0, (ev, scores[ev].summary())


def test_tilt_trigger_follows_a_sudden_slow_down():
    """From 0.9 s strides over 82 deg to 1.6 s strides over 34 deg: the learnt range shrinks at
    each heel strike, so toe-off is found again within three strides (it took ~20 when the
    thresholds relaxed per degree only)."""
    fast = walk(n_strides=20, stride_s=0.9, stance=0.6, scale=1.1, cv=0.02, seed=1, fs=100.0)
    slow = walk(n_strides=25, stride_s=1.6, stance=0.68, scale=0.45, cv=0.02, seed=2, fs=100.0, t0=fast[0][-1] + 0.01)
    t, tilt, gyr = (np.concatenate([a, b]) for a, b in zip(fast[:3], slow[:3]))
    pipe = DevicePipeline(ControllerConfig(estimator=EstimatorConfig(source="tilt")), STIM, 100.0)
    events, env, _, _ = run(pipe, samples(t, tilt, gyr))
    t_change = slow[0][0]
    scores = _score(events, fast[5] + slow[5], t_change + 3 * 1.6, t[-1] - 0.5)
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF):
        assert scores[ev].sensitivity == 1.0 and scores[ev].precision == 1.0, (ev, scores[ev].summary())


def test_stance_weight_shift_gives_no_events():
    fs = 200.0
    t = np.arange(0, 30, 1 / fs)
    # standing with slow sway and weight shifts of +-6 deg over 2 s
    tilt = 3.0 + 6.0 * np.sin(2 * np.pi * t / 4.0) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    pipe = DevicePipeline(ControllerConfig(), STIM)
    events, env, _, _ = run(pipe, samples(t, tilt))
    assert [e for e in events if e[1] == GaitEvent.HEEL_OFF] == []
    assert env.max() == 0.0


def test_heel_switch_debounce():
    fs = 200.0
    t = np.arange(0, 10, 1 / fs)
    fsw = ((t % 1.0) < 0.6).astype(float)
    fsw[(t > 3.2) & (t < 3.205)] = 0.0  # a 5 ms bounce while loaded
    pipe = DevicePipeline(ControllerConfig(detector="footswitch"), STIM)
    events, env, _, _ = run(pipe, samples(t, footswitch=fsw))
    ho = [e for e, k in events if k == GaitEvent.HEEL_OFF]
    hs = [e for e, k in events if k == GaitEvent.HEEL_STRIKE]
    assert len(ho) == 10 and len(hs) == 9
    assert np.allclose(np.array(ho) % 1.0, 0.62, atol=0.011)  # edge at 0.6 + 20 ms debounce, +-2 samples of float drift
    assert env.max() == 1.0


def test_short_sensor_dropout_keeps_learnt_thresholds():
    t, tilt, gyr, ax, ay, truth = walk(n_strides=25, stride_s=1.5, stance=0.68, scale=0.5, offset_deg=-5.0, seed=4)
    tilt = tilt.copy()
    tilt[(t > 15.0) & (t < 15.02)] = np.nan
    pipe = DevicePipeline(ControllerConfig(estimator=EstimatorConfig(source="tilt")), STIM)
    events, env, _, faults = run(pipe, samples(t, tilt))
    assert any(faults)
    # strides after the fault clears (recover_ms 0.5 s) are found from the first one on
    scores = score_events(truth, events, 0.15, (16.5, t[-1] - 0.5))
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF):
        assert scores[ev].sensitivity == 1.0 and scores[ev].precision == 1.0, scores[ev].summary()
