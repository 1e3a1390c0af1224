"""The append-only results table that makes a study resumable.

One CSV row per evaluated parameter set, written and flushed as soon as the
evaluation completes. The ``key`` column is a hash of the parameter values and of
everything else that decides the result (base controller, stimulator, walkers and
their seeds, scenarios, sensor, duration, rate, engine), so a resumed study reuses
exactly the rows it would recompute, and never the rows of a changed study.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

from fes_sim.config.schema import to_mapping
from fes_sim.errors import ConfigError, OutputError
from fes_sim.tuning.metrics import METRICS
from fes_sim.tuning.workload import Workload

RESULT_COLUMNS: tuple[str, ...] = ("objective", "violation", "feasible")


def fingerprint(workload: Workload, engine: str) -> str:
    """A digest of everything besides the parameter values that decides a result."""
    data = {
        "controller": to_mapping(workload.space.base),
        "stimulator": to_mapping(workload.stimulator),
        "walkers": [to_mapping(w) for w in workload.walkers],
        "seeds": list(workload.seeds),
        "scenarios": [to_mapping(s) for s in workload.scenarios],
        "sensor": to_mapping(workload.sensor),
        "duration_s": workload.duration_s,
        "sample_rate_hz": workload.sample_rate_hz,
        "engine": engine,
        "parameters": list(workload.space.names),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def param_key(fp: str, values: Sequence[float]) -> str:
    """Key of one parameter set under the study fingerprint ``fp``."""
    text = fp + "|" + ",".join(repr(float(v)) for v in values)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class ResultStore:
    """``results.csv``: read on resume, appended to (and flushed) row by row.

    Parameters
    ----------
    path
        The CSV file.
    names
        Parameter paths, in study order (the parameter columns).
    resume
        Keep and reuse an existing file; without it an existing file is refused.
    """

    def __init__(self, path: Path, names: Sequence[str], resume: bool) -> None:
        self.path = path
        self.columns = ("key", *names, *METRICS, *RESULT_COLUMNS)
        self.rows: dict[str, dict[str, Any]] = {}
        exists = path.is_file() and path.stat().st_size > 0
        if exists and not resume:
            raise OutputError(f"{path} exists: pass --resume to continue that study, or choose another --out")
        if exists:
            self._read()
            with path.open("rb") as fh:
                fh.seek(-1, 2)
                cut = fh.read(1) != b"\n"
        try:
            self._fh = path.open("a", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
        self._writer = csv.writer(self._fh)
        if exists and cut:
            self._fh.write("\r\n")  # end a row cut short by an interrupt; it is ignored
        if not exists:
            self._writer.writerow(self.columns)
            self._fh.flush()

    def _read(self) -> None:
        with self.path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = tuple(next(reader, ()))
            if header != self.columns:
                raise ConfigError(
                    f"{self.path}: its columns belong to another study ({', '.join(header[:6])}...); use another --out"
                )
            for line in reader:
                if len(line) != len(self.columns):
                    continue  # a row cut short by an interrupt: recomputed
                if line[-1] not in ("True", "False"):
                    continue
                try:
                    row: dict[str, Any] = {name: float(text) for name, text in zip(self.columns[1:-1], line[1:-1])}
                except ValueError:
                    continue
                row["key"], row["feasible"] = line[0], line[-1] == "True"
                self.rows[line[0]] = row

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def add(self, row: dict[str, Any]) -> None:
        """Append one completed evaluation and flush it to disk."""
        self.rows[row["key"]] = row
        self._writer.writerow([_cell(row[c]) for c in self.columns])
        self._fh.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def values(self) -> Iterable[dict[str, Any]]:
        """Every row, in insertion order."""
        return self.rows.values()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)
