"""Helpers shared by the bridge tests."""

from __future__ import annotations

from pathlib import Path


def read_frame_log(path: Path) -> list[list[str]]:
    """Rows of a frame log (after its comment and header lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# fes-sim frame log") and lines[1].startswith("host_t_s,")
    return [line.split(",", 5) for line in lines[2:]]
