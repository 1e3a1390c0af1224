"""JUnit XML a CI server reads: one test suite per HIL run, one test case per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.errors import BridgeError


@dataclass(frozen=True)
class Check:
    """One pass/fail check of a HIL run; a skipped one (nothing to judge, ``message`` says why) neither passed nor failed."""

    name: str
    passed: bool
    message: str = ""
    time_s: float = 0.0
    skipped: bool = False

    @property
    def failed(self) -> bool:
        """Not passed and not skipped."""
        return not self.passed and not self.skipped


def write_junit(path: str | Path, suite: str, checks: list[Check], properties: dict[str, str] | None = None) -> None:
    """Write ``checks`` as one ``<testsuite>`` (failures and skips carry their message)."""
    failures = sum(c.failed for c in checks)
    skipped = sum(c.skipped for c in checks)
    root = ET.Element("testsuites", name="fes hil", tests=str(len(checks)), failures=str(failures))
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(checks)), failures=str(failures), errors="0", skipped=str(skipped),
                       time=f"{sum(c.time_s for c in checks):.3f}")
    if properties:
        props = ET.SubElement(ts, "properties")
        for k, v in properties.items():
            ET.SubElement(props, "property", name=k, value=str(v))
    for c in checks:
        case = ET.SubElement(ts, "testcase", classname=suite, name=c.name, time=f"{c.time_s:.3f}")
        if c.skipped:
            ET.SubElement(case, "skipped", message=c.message)
        elif c.failed:
            ET.SubElement(case, "failure", message=c.message or "failed").text = c.message
        elif c.message:
            ET.SubElement(case, "system-out").text = c.message
    ET.indent(root)
    try:
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise BridgeError(f"{path}: cannot write JUnit XML ({exc.strerror})") from None
