"""One simulated session, end to end: build the loop, run it, score it, write its files.

This is the library behind ``fes run`` and the place examples and comparisons
start from::

    from fes_sim.session import SimulationSession
    from fes_sim.config import resolve
    s = SimulationSession(resolve("walker", "drop_foot_severe"), resolve("controller", "walkaide_tilt"))
    result = s.run(duration_s=30, seed=1)
    result.summary["mtc_mm"]["p5"]
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from fes_sim.config import get_preset
from fes_sim.controller_inputs import sensor_for
from fes_sim.device import DevicePipeline
from fes_sim.detection.scoring import score_events
from fes_sim.loop import ClosedLoop, LoopTrace
from fes_sim.plant import WalkingPlant
from fes_sim.recording import RecordingWriter, write_table_csv
from fes_sim.run_summary import STRIDE_COLUMNS, StrideRow, row_values, stride_rows, summarize

log = logging.getLogger(__name__)


@dataclass
class SessionResult:
    """Everything a run produced."""

    rows: list[StrideRow]
    summary: dict[str, Any]
    trace: LoopTrace
    plant: WalkingPlant
    files: list[Path] = field(default_factory=list)

    def summary_text(self) -> str:
        """A few human-readable lines of the summary."""
        s = self.summary
        stim, mtc = s["stim"], s["mtc_mm"]

        def num(x: float | None, fmt: str = ".1f") -> str:
            return "-" if x is None else format(x, fmt)

        lines = [
            f"strides: {s['strides']}   toe-drag strides: {s['toe_drag_strides']}   stimulated strides: {stim['stimulated_strides']}",
            f"MTC: median {num(mtc['median'])} mm, p5 {num(mtc['p5'])} mm   foot pitch at IC: median {num(s['foot_pitch_ic_deg_median'])} deg",
            f"stimulation: onset lead median {num(stim['onset_lead_ms_median'], '.0f')} ms, charge/stride median "
            f"{num(stim['charge_per_stride_uc_median'])} uC, max current {num(stim['max_current_ma'])} mA",
        ]
        det = s.get("detection")
        if det:
            for name in ("heel_strike", "heel_off"):
                d = det[name]
                lines.append(
                    f"detection {name}: sensitivity {num(d['sensitivity'], '.3f')}, precision {num(d['precision'], '.3f')}, "
                    f"median |error| {num(d['median_abs_error_ms'], '.0f')} ms"
                )
        startup = f" (start-up {s['startup_s']:.1f} s: compiled code is built on first use, then cached)" if s["startup_s"] > 1.0 else ""
        lines.append(f"real-time factor: {num(s['realtime_factor'], '.0f')}x{startup}")
        return "\n".join(lines)


class SimulationSession:
    """A walker, a controller (or none), a stimulator and a scenario, ready to run.

    Parameters
    ----------
    walker, controller, stimulator, scenario
        Validated configuration objects; ``controller=None`` means no stimulator
        at all, so detection is not scored. ``stimulator`` and ``scenario``
        default to the ``default`` stimulator and the ``walk`` scenario.
    sample_rate_hz
        Shank sensor rate (Hz); the plant runs at 1 kHz inside.
    sensor, orthosis
        Optional sensor model (noise, faults) and ankle-foot orthosis for the plant.
        Without ``sensor`` the default sensor delivers every channel the controller
        reads (the heel switch included); an explicit one lacking them is a ConfigError.
    labels
        Names written into the recording's metadata.
    """

    def __init__(
        self,
        walker: Any,
        controller: Any | None,
        stimulator: Any | None = None,
        scenario: Any | None = None,
        *,
        sample_rate_hz: float = 200.0,
        sensor: Any | None = None,
        orthosis: Any | None = None,
        labels: Mapping[str, object] | None = None,
    ) -> None:
        self.walker = walker
        self.controller = controller
        self.stimulator = stimulator if stimulator is not None else get_preset("stimulator", "default")
        self.scenario = scenario
        self.sample_rate_hz = sample_rate_hz
        self.sensor = sensor_for(controller, sensor) if controller is not None else sensor
        self.orthosis = orthosis
        self.labels = dict(labels or {})
        # Build the pipeline now, so a controller beyond the stimulator's limits
        # fails before anything is simulated or written.
        self._pipeline = (
            DevicePipeline(controller, self.stimulator, sample_rate_hz=sample_rate_hz) if controller is not None else None
        )

    def run(self, duration_s: float, seed: int, out_dir: Path | None = None, progress: bool = False) -> SessionResult:
        """Simulate ``duration_s`` seconds; with ``out_dir``, write the recording as it goes."""
        plant = WalkingPlant(
            self.walker,
            scenario=self.scenario,
            sensor=self.sensor,
            sample_rate_hz=self.sample_rate_hz,
            orthosis=self.orthosis,
        )
        files: list[Path] = []
        recorder = None
        if out_dir is not None:
            meta = {"sample_rate_hz": self.sample_rate_hz, "source": "fes run", "duration_s": duration_s}
            meta.update(self.labels)
            recorder = RecordingWriter(out_dir / "recording.csv", meta)
            files += [recorder.path, out_dir / "recording_events.csv"]
        loop = ClosedLoop(plant, self._pipeline, recorder)
        try:
            trace = _run_with_progress(loop, duration_s, seed, progress)
        finally:
            if recorder is not None:
                recorder.close()
        rows = stride_rows(plant.strides, trace)
        detection = None
        if self._pipeline is not None and trace.t_s:
            scores = score_events(plant.events, trace.detected_events, t_range=(trace.t_s[0], trace.t_s[-1]))
            detection = {ev.label: score.summary() for ev, score in scores.items()}
        summary = summarize(rows, trace, detection, duration_s)
        result = SessionResult(rows, summary, trace, plant, files)
        if out_dir is not None:
            write_table_csv(out_dir / "strides.csv", STRIDE_COLUMNS, [row_values(r) for r in rows])
            files.append(out_dir / "strides.csv")
            from fes_sim.report import plot_run

            title = ", ".join(f"{k} {v}" for k, v in self.labels.items())
            files.append(plot_run(trace, plant.events, out_dir / "report.png", title=title))
        return result


#: start-up (reset and first step) after which the progress display explains the wait
STARTUP_NOTICE_S = 2.0


def _run_with_progress(loop: ClosedLoop, duration_s: float, seed: int, progress: bool) -> LoopTrace:
    """Run the loop, with a progress bar on stderr once it has taken a second, and a line
    saying why when the start takes longer than :data:`STARTUP_NOTICE_S` (numba compiling
    the simulator on first use)."""
    if not progress:
        return loop.run(duration_s, seed)
    from tqdm import tqdm

    notice = threading.Timer(
        STARTUP_NOTICE_S, lambda: print("compiling the simulator on first use (about half a minute; cached for later runs) ...", file=sys.stderr, flush=True),
    )
    notice.daemon = True
    notice.start()
    with tqdm(total=duration_s, unit="s", delay=1.0, leave=False, desc="simulating", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]") as bar:

        def advance(sim_s: float) -> None:
            notice.cancel()
            bar.update(sim_s - bar.n)

        try:
            return loop.run(duration_s, seed, on_progress=advance)
        finally:
            notice.cancel()
