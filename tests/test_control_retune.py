"""DevicePipeline.retune: safety re-check, no burst cut or re-scaled, learnt state kept."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from detect_helpers import samples, walk
from fes_sim.control.config import ControllerConfig, StimulationConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.errors import SafetyLimitError


def _walk_samples():
    t, tilt, gyr, _, _, _ = walk(n_strides=12)
    return samples(t, tilt=tilt, gyr=gyr)


def _stronger(cfg: ControllerConfig) -> ControllerConfig:
    return dataclasses.replace(cfg, stimulation=dataclasses.replace(cfg.stimulation, current_ma=55.0))


def test_unsafe_retune_rejected_and_nothing_changes():
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig())
    before = pipe.config
    with pytest.raises(SafetyLimitError, match="current_ma = 150"):
        pipe.retune(ControllerConfig(stimulation=StimulationConfig(current_ma=150.0)))
    assert pipe.config is before and pipe.pending is None


def test_retune_mid_burst_waits_for_idle_and_keeps_learnt_state():
    sl = _walk_samples()
    ref = DevicePipeline(ControllerConfig(), StimulatorConfig())
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig())
    detector = pipe.detector
    i = 0
    # walk in step until a burst is fully on after 6 s
    while not (i > 200 * 6 and pipe.out.state == "on"):
        assert ref.update(sl[i]).envelope == pipe.update(sl[i]).envelope
        i += 1
    assert pipe.retune(_stronger(pipe.config)) is False and pipe.pending is not None
    # the burst in progress finishes exactly as without the retune (same amplitude, own ramp)
    while True:
        a, b = ref.update(sl[i]), pipe.update(sl[i])
        i += 1
        if b.state == "idle":
            break
        assert b.current_ma == a.current_ma
    assert pipe.pending is not None
    pipe.update(sl[i])
    ref.update(sl[i])
    assert pipe.pending is None and pipe.config.stimulation.current_ma == 55.0
    # same detector object with the same learnt thresholds as the run without retune
    assert pipe.detector is detector
    assert (pipe.detector.threshold_deg, pipe.detector.peak_rate_follower) == (ref.detector.threshold_deg, ref.detector.peak_rate_follower)
    # the next burst uses the new amplitude, and detection is unchanged
    peak_new, peak_ref = 0.0, 0.0
    for s in sl[i + 1 : i + 300]:
        peak_new = max(peak_new, pipe.update(s).current_ma)
        peak_ref = max(peak_ref, ref.update(s).current_ma)
    assert peak_ref == 35.0 and peak_new == 55.0


def test_retune_while_idle_applies_at_once_and_detects_same_events():
    sl = _walk_samples()
    ref = DevicePipeline(ControllerConfig(), StimulatorConfig())
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig())
    ev_ref, ev_new = [], []
    for k, s in enumerate(sl):
        if k == 0:
            assert pipe.retune(_stronger(pipe.config)) is True
        a, b = ref.update(s), pipe.update(s)
        ev_ref.append(a.event)
        ev_new.append(b.event)
    assert ev_ref == ev_new and np.count_nonzero(ev_new) > 20


def test_retune_to_another_detector_starts_it_fresh():
    pipe = DevicePipeline(ControllerConfig(), StimulatorConfig())
    for s in _walk_samples()[:20]:  # still idle, before the first heel-off
        pipe.update(s)
    assert pipe.retune(dataclasses.replace(pipe.config, detector="gyro"))
    assert type(pipe.detector).__name__ == "ShankGyroDetector"
