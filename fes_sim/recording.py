"""Writer of the recording format (version 1, specified in ``docs/architecture.md``).

Rows are written and flushed as the run goes, so a run that is interrupted or
crashes leaves a valid file up to its last flushed row. Reference events go to
the sibling file ``NAME_events.csv`` as they happen.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import IO, Iterable, Mapping, Sequence

from fes_sim.errors import OutputError
from fes_sim.samples import SAMPLE_FIELDS, GaitEvent, ShankSample

FORMAT_LINE = "# fes-sim recording v1"

#: device-output columns, in file order
DEVICE_COLUMNS: tuple[str, ...] = (
    "tilt_est_deg",
    "event",
    "stim_state",
    "envelope",
    "current_ma",
    "pulse_width_us",
    "frequency_hz",
    "fault",
)

#: simulator ground-truth columns, in file order (attributes of ``WalkingPlant.state``)
TRUTH_COLUMNS: tuple[str, ...] = (
    "true_tilt_deg",
    "ankle_deg",
    "foot_pitch_deg",
    "toe_height_mm",
    "torque_nm",
    "fatigue",
    "activity",
)


def events_path(recording: str | Path) -> Path:
    """``NAME_events.csv`` beside ``NAME.csv``."""
    p = Path(recording)
    return p.with_name(f"{p.stem}_events.csv")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, GaitEvent):
        return value.label if value else ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class RecordingWriter:
    """Writes one recording and its reference events, row by row.

    Parameters
    ----------
    path
        Destination ``.csv``; its parent must exist and be writable.
    metadata
        ``key = value`` pairs written as comment lines (sample rate, walker, seed...).
    with_truth
        Include the simulator ground-truth columns.
    flush_every_rows
        Rows between flushes; 1 flushes every row.
    """

    def __init__(
        self,
        path: str | Path,
        metadata: Mapping[str, object] | None = None,
        *,
        with_truth: bool = True,
        flush_every_rows: int = 20,
    ) -> None:
        self.path = Path(path)
        self.columns: tuple[str, ...] = SAMPLE_FIELDS + DEVICE_COLUMNS + (TRUTH_COLUMNS if with_truth else ())
        self._flush_every = max(1, flush_every_rows)
        self._rows_since_flush = 0
        self._with_truth = with_truth
        try:
            self._fh: IO[str] = self.path.open("w", newline="", encoding="utf-8")
            self._events_fh: IO[str] = events_path(self.path).open("w", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write recording ({exc.strerror})") from None
        self._fh.write(FORMAT_LINE + "\n")
        for key, value in (metadata or {}).items():
            self._fh.write(f"# {key} = {value}\n")
        self._csv = csv.writer(self._fh, lineterminator="\n")
        self._csv.writerow(self.columns)
        self._events_csv = csv.writer(self._events_fh, lineterminator="\n")
        self._events_csv.writerow(("t_s", "event"))
        self._fh.flush()
        self._events_fh.flush()
        self.rows = 0

    def write(self, sample: ShankSample, device: object | None = None, truth: object | None = None) -> None:
        """Append one row: the sample, the device output (a ``StimOutput``) and the truth state."""
        row = [_cell(getattr(sample, name)) for name in SAMPLE_FIELDS]
        if device is None:
            row.extend([""] * len(DEVICE_COLUMNS))
        else:
            row.extend(
                _cell(v)
                for v in (
                    device.tilt_est_deg,
                    GaitEvent(device.event),
                    device.state,
                    device.envelope,
                    device.current_ma,
                    device.pulse_width_us,
                    device.frequency_hz,
                    device.faults,
                )
            )
        if self._with_truth:
            if truth is None:
                row.extend([""] * len(TRUTH_COLUMNS))
            else:
                row.extend(_cell(getattr(truth, name)) for name in TRUTH_COLUMNS)
        self._csv.writerow(row)
        self.rows += 1
        self._rows_since_flush += 1
        if self._rows_since_flush >= self._flush_every:
            self.flush()

    def write_events(self, events: Iterable[tuple[float, GaitEvent]]) -> None:
        """Append reference events and flush them at once."""
        for t_s, event in events:
            self._events_csv.writerow((f"{t_s:.6f}", GaitEvent(event).label))
        self._events_fh.flush()

    def flush(self) -> None:
        """Push buffered rows to the operating system."""
        self._fh.flush()
        self._rows_since_flush = 0

    def close(self) -> None:
        """Flush and close both files; safe to call twice."""
        for fh in (self._fh, self._events_fh):
            if not fh.closed:
                fh.flush()
                fh.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_table_csv(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a plain CSV table (header plus rows), formatting floats compactly."""
    try:
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(v) for v in row])
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
