"""Helpers shared by the bridge tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def read_frame_log(path: Path) -> list[list[str]]:
    """Rows of a frame log (after its comment and header lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# fes-sim frame log") and lines[1].startswith("host_t_s,")
    return [line.split(",", 5) for line in lines[2:]]


#: set (to anything but "" or "0") by .ci/run: firmware tests whose tools are missing fail instead of skipping
REQUIRE_FIRMWARE_ENV = "FES_REQUIRE_FIRMWARE"

#: the tools the QEMU firmware tests need
QEMU_TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc", "make")


def require_tools(tools: tuple[str, ...], what: str) -> None:
    """Skip the calling test with a one-line reason when a tool is not on PATH, or fail it
    when ``$FES_REQUIRE_FIRMWARE`` says this run (CI) must not skip firmware tests."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed: {what} skipped"
    if os.environ.get(REQUIRE_FIRMWARE_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason}, but {REQUIRE_FIRMWARE_ENV} is set: this run must not skip them")
    pytest.skip(reason)
