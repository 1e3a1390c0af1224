"""Writing matplotlib figures without a display."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fes_sim.errors import OutputError


def new_figure(rows: int, cols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` on the Agg backend, so no screen is ever needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, **kwargs)


def save_figure(fig: Any, path: str | Path, dpi: int = 100, what: str = "figure") -> Path:
    """Save ``fig`` as PNG and close it; an unwritable path raises :class:`OutputError`."""
    import matplotlib.pyplot as plt

    out = Path(path)
    try:
        fig.savefig(out, dpi=dpi)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write {what} ({exc.strerror})") from None
    finally:
        plt.close(fig)
    return out
