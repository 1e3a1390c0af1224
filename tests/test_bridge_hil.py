"""HIL building blocks: onset/offset matching, percentiles, jitter, JUnit XML."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

import numpy as np

from firmware_bridge.hil import Check, ClockSync, Percentiles, compare, jitter, sync_clock, write_junit
from firmware_bridge.hil.timing import fit_device_clock, wrap_reduce_s
from firmware_bridge.protocol import StimState

I, R, O, E, D = StimState.IDLE, StimState.RAMP_UP, StimState.ON, StimState.EXTENSION, StimState.RAMP_DOWN


def test_compare_matches_edges_within_tolerance():
    ref = [(10, StimState.DELAY), (15, R), (30, O), (170, E), (190, D), (205, I), (237, R), (400, I)]
    dev = [(16, R), (31, O), (206, I), (237, R), (402, I)]
    rows, extra_on, extra_off = compare(ref, dev, 200.0, tolerance_ms=5.0)
    assert [(r.ref_on, r.dev_on, r.ref_off, r.dev_off) for r in rows] == [(15, 16, 205, 206), (237, 237, 400, None)]
    assert rows[0].passed and rows[0].onset_ms == 5.0 and rows[0].offset_ms == 5.0
    assert not rows[1].passed and math.isnan(rows[1].offset_ms)
    assert extra_on == [] and extra_off == [402]


def test_compare_reports_extra_device_bursts():
    rows, extra_on, extra_off = compare([], [(50, O), (60, I)], 200.0, 5.0)
    assert rows == [] and extra_on == [50] and extra_off == [60]


def test_percentiles_and_jitter():
    p = Percentiles.of([0.001] * 98 + [0.002, 0.010, math.nan])
    assert p.n == 100 and p.p50_s == 0.001 and p.max_s == 0.010 and 0.001 < p.p99_s <= 0.010
    assert Percentiles.of([]).n == 0
    j = jitter([0.0, 0.005, 0.010, 0.016], 0.005)
    assert j.n == 3 and abs(j.max_s - 0.001) < 1e-12


def test_junit_xml(tmp_path):
    path = tmp_path / "out.xml"
    write_junit(path, "fes hil host", [Check("a", True, "fine", 1.5), Check("b", False, "too slow"),
                                       Check("c", False, "not measurable", skipped=True)], {"port": "x"})
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert suite.find("testcase[@name='c']/skipped").get("message") == "not measurable"
    assert suite.find("testcase[@name='b']/failure").get("message") == "too slow"
    assert suite.find("properties/property").get("value") == "x"


class _PingLink:
    """A stand-in link whose pings are answered from a scripted device clock, some lost."""

    def __init__(self, drift_ppm: float, offset_s: float, lose_every: int = 0) -> None:
        self.t_s, self.drift, self.offset_s, self.lose_every, self.k = 100.0, drift_ppm * 1e-6, offset_s, lose_every, 0

    def ping(self):
        from firmware_bridge.errors import LinkTimeout
        from firmware_bridge.link.fes_link import ClockSample

        self.k += 1
        self.t_s += 0.5
        if self.lose_every and self.k % self.lose_every == 0:
            raise LinkTimeout("no answer to TIME_PING")
        device_s = self.t_s * (1 + self.drift) + self.offset_s
        return ClockSample(self.t_s, 0.001, wrap_reduce_s(device_s - self.t_s), int(device_s * 1e6) & 0xFFFFFFFF)


def test_lost_pings_are_skipped_and_a_minimum_must_answer():
    from firmware_bridge.errors import LinkTimeout

    sync = sync_clock(_PingLink(0.0, 3.0, lose_every=3), pings=9, gap_s=0.0)
    assert sync.lost == 3 and sync.round_trip.n == 6 and abs(sync.offset_s - 3.0) < 1e-9
    with pytest.raises(LinkTimeout, match="1 of 3 pings answered"):
        sync_clock(_OnlyFirst(), pings=3, gap_s=0.0, min_answered=2)


class _OnlyFirst(_PingLink):
    def __init__(self) -> None:
        super().__init__(0.0, 0.0)

    def ping(self):
        from firmware_bridge.errors import LinkTimeout

        if self.k:
            raise LinkTimeout("no answer")
        return super().ping()


def _skewed_run(stalls_freeze_clock: bool, drift_ppm: float = -130_000.0, duration_s: float = 10.0):
    """A device clock 13 % slow, near the wrap, whose samples stall 20 ms every 0.5 s: (rx, device, true transit, sync).

    A stall holds back the samples taken during it (QEMU's guest descheduled); with ``stalls_freeze_clock``
    the device clock also stops during each stall, as QEMU's counted SysTick does.
    """
    from firmware_bridge.link.fes_link import ClockSample

    rng = np.random.default_rng(1)
    rate = 1.0 + drift_ppm * 1e-6
    host_s = 50.0 + np.arange(0.0, duration_s, 0.005)
    stall_end_s = 50.0 + np.arange(0.5, duration_s, 0.5)
    following = np.searchsorted(stall_end_s, host_s)
    end_s = stall_end_s[np.minimum(following, stall_end_s.size - 1)]
    held = (following < stall_end_s.size) & (host_s > end_s - 0.020)
    transit_s = 0.0002 + rng.exponential(0.0003, host_s.size) + np.where(held, end_s - host_s, 0.0)
    lost_s = 0.020 * np.searchsorted(stall_end_s, host_s) if stalls_freeze_clock else 0.0
    device_s = 4290.0 + rate * (host_s - 50.0) - lost_s  # wraps at 4294.97 s (unwrapped here)

    def ping(t0_s: float) -> ClockSample:
        up_s, down_s = 0.0003 + rng.exponential(0.0002, 2)
        t1_s = 4290.0 + rate * (t0_s + up_s - 50.0) - (0.020 * np.searchsorted(stall_end_s, t0_s) if stalls_freeze_clock else 0.0)
        t2_s, t3_s = t1_s + 50e-6, t0_s + up_s + 50e-6 / rate + down_s
        return ClockSample(t3_s, (t3_s - t0_s) - (t2_s - t1_s), wrap_reduce_s(((t1_s - t0_s) + (t2_s - t3_s)) / 2),
                           int(t1_s * 1e6) & 0xFFFFFFFF)

    sync = ClockSync(tuple(tuple(ping(t + 0.002 * k) for k in range(20)) for t in 49.9 + np.arange(0.0, duration_s, 2.0)))
    return host_s + transit_s, device_s, transit_s, sync


def test_minimum_delay_fit_recovers_the_transit_on_a_slow_stalling_device_clock():
    """13 % slow, 20 ms delivery stalls: a mean fit of the offsets is biased by the stalls, the envelope is not."""
    rx_s, device_s, transit_s, sync = _skewed_run(stalls_freeze_clock=False)
    fit = fit_device_clock(rx_s, device_s, sync, max_drift_ppm=200_000)
    assert fit is not None and fit.reason == "", fit
    assert abs(fit.drift_ppm + 130_000) < 10
    error_s = fit.transit_s(rx_s, device_s) - transit_s
    assert np.abs(error_s).max() <= fit.min_transit_uncertainty_s + 20e-6 < 0.0005
    assert abs(np.percentile(fit.transit_s(rx_s, device_s), 99) - np.percentile(transit_s, 99)) < 0.0005


def test_device_clock_beyond_the_drift_bound_or_stepping_is_not_measurable():
    rx_s, device_s, _, sync = _skewed_run(stalls_freeze_clock=False)
    assert "drift -130000 ppm beyond ±1000 ppm" in fit_device_clock(rx_s, device_s, sync).reason
    rx_s, device_s, _, sync = _skewed_run(stalls_freeze_clock=True)
    reason = fit_device_clock(rx_s, device_s, sync, max_drift_ppm=200_000).reason
    assert "pings contradict" in reason, reason  # regular steps fit a slower line, which the pings refute
    assert fit_device_clock(rx_s[:20], device_s[:20], sync) is None  # 0.1 s: too short to fit


def test_duplicated_samples_are_dropped_not_counted_as_lost():
    """A duplicating link used to add ~2^32 lost samples per duplicate."""
    from fes_sim.config import resolve
    from firmware_bridge.hil import run_host_loop
    from firmware_bridge.link.fes_link import FesLink

    with FesLink.open("fesemu://?duplicate=0.05&seed=2", request_timeout_s=0.2) as link:
        result = run_host_loop(link, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"), 200, 1.0,
                               sample_timeout_s=1.0)
    assert result.error is None, result.error
    assert result.samples == 200 and result.lost_samples == 0 and result.stale_samples > 0


def test_sample_to_command_latency_follows_a_drifting_device_clock():
    """The device clock runs 3000 ppm fast: one offset from the start would be 6 ms off after 2 s; the default
    bound (a crystal's 1000 ppm) makes the latency not measurable, a wider one measures it."""
    from fes_sim.config import resolve
    from firmware_bridge.hil import run_host_loop
    from firmware_bridge.link.fes_link import FesLink

    with FesLink.open("fesemu://?clock_drift_ppm=3000", request_timeout_s=0.5) as link:
        result = run_host_loop(link, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"), 200, 3.0,
                               sample_timeout_s=1.0, resync_s=1.0, max_drift_ppm=5000)
    assert result.error is None, result.error
    assert len(result.clock.bursts) >= 3 and abs(result.clock_fit.drift_ppm - 3000) < 300
    stc = result.sample_to_command
    assert not result.latency_unmeasurable and 0.0 <= stc.p50_s < 0.002, stc
    checks = {c.name: c for c in result.checks(None, None)}
    assert checks["sample_to_command"].passed
    result.clock_fit = fit_device_clock([0.0], [0.0], None)  # no fit: what the checks say then
    checks = {c.name: c for c in result.checks(1.0, None)}
    assert checks["latency_p50"].failed and "not measurable" in checks["latency_p50"].message
