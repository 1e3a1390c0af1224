"""Issue #4 targets on real gait: NONAN GaitPrint (Wiles et al. 2023, Sci Data 10:867).

Both files, both legs, tilt input only, causal, default (uncalibrated) controller,
no reference labels used: every heel strike and toe-off found, no false
detections, median |error| <= 10 ms and p95 <= 25 ms.
"""

from __future__ import annotations

import pytest

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.replay import load_recording, replay, score_replay, stimulation_per_stride
from fes_sim.samples import GaitEvent


@pytest.fixture(scope="module", params=[(f, leg) for f in ("healthy_young", "healthy_middle") for leg in ("left", "right")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def replayed(request, nonan_dir):
    name, leg = request.param
    rec = load_recording(nonan_dir / f"{name}.csv", leg=leg)
    result = replay(rec, ControllerConfig(), StimulatorConfig())
    return rec, result


@pytest.mark.parametrize("event", [GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF], ids=lambda e: e.label)
def test_nonan_targets(replayed, event):
    rec, result = replayed
    s = score_replay(rec, result)[event]
    summary = s.summary()
    assert s.n_reference >= 40
    assert s.sensitivity == 1.0, summary
    assert s.precision == 1.0, summary
    # event times are multiples of the 5 ms sample period: round away float noise
    assert round(summary["median_abs_error_ms"], 6) <= 10.0, summary
    assert round(summary["p95_abs_error_ms"], 6) <= 25.0, summary


def test_nonan_every_stride_stimulated_before_toe_off(replayed):
    rec, result = replayed
    stim = stimulation_per_stride(rec, result)
    assert stim["strides_stimulated"] == stim["strides"]
    # onset leads toe-off by at least electromechanical delay + torque rise (REFERENCE §8)
    assert 100.0 <= stim["onset_lead_ms"] <= 400.0
    assert not any(result.faults)
