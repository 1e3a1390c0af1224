"""Shared fixtures: where the real gait recordings are, command-line options, and Hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# CI (``.ci/run`` sets HYPOTHESIS_PROFILE=ci) draws the same examples every run, so that a red
# run points at a change, not at a new draw; elsewhere each run explores new examples
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def shared_data_dir() -> Path:
    """``$FES_SHARED_DATA`` or ``../shared/data`` beside the project."""
    env = os.environ.get("FES_SHARED_DATA")
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def nonan_dir() -> Path:
    """The NONAN GaitPrint subset; the test skips when it is absent."""
    d = shared_data_dir() / "nonan"
    if not (d / "healthy_young.csv").is_file():
        pytest.skip(f"real gait data not found at {d} (set FES_SHARED_DATA)")
    return d


@pytest.fixture(scope="session")
def winter_file() -> Path:
    """Winter's Appendix A marker table; the test skips when it is absent."""
    f = shared_data_dir() / "winter" / "WinterTableA1.txt"
    if not f.is_file():
        pytest.skip(f"Winter's table not found at {f} (set FES_SHARED_DATA)")
    return f


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--serial-port",
        default=None,
        help="run the back-to-back bridge suite against a real device on this port",
    )
