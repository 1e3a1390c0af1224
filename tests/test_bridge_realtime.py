"""Raised scheduling priority for HIL runs: obtained where permitted, a logged fallback otherwise, always undone."""

from __future__ import annotations

import gc
import logging
import os

import pytest

from fes_sim.cli import build_parser
from firmware_bridge import realtime as rt


def _state() -> tuple[int, int, int]:
    return os.sched_getscheduler(0), os.sched_getparam(0).sched_priority, os.getpriority(os.PRIO_PROCESS, 0)


def test_not_requested_changes_nothing() -> None:
    before = _state()
    with rt.realtime(False) as prio:
        assert not prio.raised and _state() == before


def test_raised_inside_and_restored_after() -> None:
    before = _state()
    with rt.realtime(True) as prio:
        inside = _state()
        frozen = gc.get_freeze_count()
    if prio.description.startswith("SCHED_FIFO"):
        assert inside[:2] == (os.SCHED_FIFO, rt.FIFO_PRIORITY)
    elif prio.description.startswith("nice"):
        assert inside[2] == rt.NICE
    else:
        assert not prio.raised and inside == before
    assert frozen > 0 and gc.get_freeze_count() == 0
    assert _state() == before


def test_without_privilege_falls_back_with_a_note(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(os, "setpriority", refuse)
    before = _state()
    with caplog.at_level(logging.INFO, logger="firmware_bridge.realtime"), rt.realtime(True) as prio:
        assert _state() == before
    assert not prio.raised and prio.description.startswith("normal (Operation not permitted")
    assert "not permitted" in caplog.text


@pytest.mark.parametrize("argv", [["emulate"], ["hil", "host"], ["hil", "device"], ["hil", "latency"], ["ports"]])
def test_help_states_every_default(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    text = capsys.readouterr().out
    assert "default: None" not in text and "(default: )" not in text and "default: []" not in text
