"""Replay of recorded shank data through the device pipeline, with scoring."""

from fes_sim.replay.loaders import Recording, load_nonan, load_recording, read_events
from fes_sim.replay.run import ReplayResult, json_summary, replay, score_replay, stimulation_per_stride

__all__ = [
    "Recording",
    "load_recording",
    "load_nonan",
    "read_events",
    "ReplayResult",
    "replay",
    "score_replay",
    "stimulation_per_stride",
    "json_summary",
]
