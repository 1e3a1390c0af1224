"""JUnit XML a CI server reads: one test suite per HIL run, one test case per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.errors import BridgeError


@dataclass(frozen=True)
class Check:
    """One pass/fail check of a HIL run."""

    name: str
    passed: bool
    message: str = ""
    time_s: float = 0.0


def write_junit(path: str | Path, suite: str, checks: list[Check], properties: dict[str, str] | None = None) -> None:
    """Write ``checks`` as one ``<testsuite>`` (failures carry their message)."""
    failures = sum(not c.passed for c in checks)
    root = ET.Element("testsuites", name="fes hil", tests=str(len(checks)), failures=str(failures))
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(checks)), failures=str(failures), errors="0",
                       time=f"{sum(c.time_s for c in checks):.3f}")
    if properties:
        props = ET.SubElement(ts, "properties")
        for k, v in properties.items():
            ET.SubElement(props, "property", name=k, value=str(v))
    for c in checks:
        case = ET.SubElement(ts, "testcase", classname=suite, name=c.name, time=f"{c.time_s:.3f}")
        if not c.passed:
            ET.SubElement(case, "failure", message=c.message or "failed").text = c.message
        elif c.message:
            ET.SubElement(case, "system-out").text = c.message
    ET.indent(root)
    try:
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise BridgeError(f"{path}: cannot write JUnit XML ({exc.strerror})") from None
