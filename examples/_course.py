"""Shared by the course examples: where figures go and how answers are printed.

Every example takes the output directory as its first argument, or from the
environment variable ``FES_COURSE_FIGURES``, and otherwise writes next to
itself in ``examples/figures/`` (the copies the course pages show).
Answers to the exercises are printed as ``answer KEY = VALUE UNIT`` lines, so a
reader can find them and the test suite can check them against the lessons.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

DEFAULT_DIR = Path(__file__).resolve().parent / "figures"


def figure_dir() -> Path:
    """The output directory: ``argv[1]``, else ``$FES_COURSE_FIGURES``, else ``examples/figures/``."""
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
    elif os.environ.get("FES_COURSE_FIGURES"):
        out = Path(os.environ["FES_COURSE_FIGURES"])
    else:
        out = DEFAULT_DIR
    out.mkdir(parents=True, exist_ok=True)
    return out


def save(fig: plt.Figure, name: str) -> Path:
    """Write ``fig`` as ``NAME.png`` in :func:`figure_dir` and close it."""
    path = figure_dir() / f"{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure: {path}")
    return path


def answer(key: str, value: float, unit: str = "", fmt: str = ".1f") -> None:
    """Print one exercise answer as ``answer KEY = VALUE UNIT``."""
    print(f"answer {key} = {value:{fmt}} {unit}".rstrip())
