"""Plain-text tables for terminal output."""

from __future__ import annotations

import math
from typing import Any, Sequence


def format_cell(value: Any, decimals: int = 1) -> str:
    """A compact cell: ``-`` for missing numbers, ``yes``/``no`` for booleans, no ``-0.0``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        text = f"{value:.{decimals}f}"
        return text[1:] if text.startswith("-") and float(text) == 0.0 else text
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], decimals: Sequence[int] | None = None) -> str:
    """Right-aligned columns under their headers, one line per row."""
    decs = list(decimals) if decimals is not None else [1] * len(headers)
    cells = [[format_cell(v, d) for v, d in zip(row, decs)] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
