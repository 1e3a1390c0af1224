"""fes_sim: a simulator, replayer and timing controller for peroneal FES against foot drop."""

from pathlib import Path

from fes_sim.numba_cache import drop_stale_caches

drop_stale_caches(Path(__file__).resolve().parent)  # before any compiled code is loaded

from fes_sim.errors import ConfigError, FesError, RecordingError, SafetyLimitError
from fes_sim.samples import GaitEvent, ShankSample

__version__ = "0.1.0"

__all__ = ["FesError", "ConfigError", "SafetyLimitError", "RecordingError", "GaitEvent", "ShankSample", "__version__"]
