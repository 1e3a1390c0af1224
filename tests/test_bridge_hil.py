"""HIL building blocks: onset/offset matching, percentiles, jitter, JUnit XML."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from firmware_bridge.hil import Check, ClockSync, Percentiles, compare, jitter, sync_clock, write_junit
from firmware_bridge.hil.timing import wrap_reduce_s
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
    write_junit(path, "fes hil host", [Check("a", True, "fine", 1.5), Check("b", False, "too slow")], {"port": "x"})
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
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


def test_clock_sync_fits_the_drift_across_bursts_and_a_device_clock_wrap():
    link = _PingLink(drift_ppm=150.0, offset_s=4290.0)  # the device clock wraps (at 4294.97 s) between bursts
    sync = sync_clock(link, pings=5, gap_s=0.0)
    for _ in range(6):
        link.t_s += 10.0
        sync = sync.with_burst(sync_clock(link, pings=5, gap_s=0.0))
    assert len(sync.bursts) == 7 and abs(sync.drift_ppm() - 150.0) < 0.5
    t = link.t_s + 1.0
    true_offset = wrap_reduce_s(t * 150e-6 + 4290.0)
    assert abs(wrap_reduce_s(sync.offset_at(t) - true_offset)) < 1e-6
    assert math.isnan(ClockSync(sync.bursts[:1]).drift_ppm())


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
    """The device clock runs 3000 ppm fast: one offset from the start would be 6 ms off after 2 s."""
    from fes_sim.config import resolve
    from firmware_bridge.hil import run_host_loop
    from firmware_bridge.link.fes_link import FesLink

    with FesLink.open("fesemu://?clock_drift_ppm=3000", request_timeout_s=0.5) as link:
        result = run_host_loop(link, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"), 200, 3.0,
                               sample_timeout_s=1.0, resync_s=1.0)
    assert result.error is None, result.error
    assert len(result.clock.bursts) >= 3 and abs(result.clock.drift_ppm() - 3000) < 300
    stc = result.sample_to_command
    assert 0.0 <= stc.p50_s < 0.002, stc
