"""HIL building blocks: onset/offset matching, percentiles, jitter, JUnit XML."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from firmware_bridge.hil import Check, Percentiles, compare, jitter, write_junit
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
