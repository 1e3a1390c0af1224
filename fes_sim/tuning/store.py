"""The append-only results table that makes a study resumable.

One CSV row per evaluated parameter set, written and flushed as soon as the
evaluation completes. The ``key`` column is a hash of the parameter values and of
everything else that decides the metrics (base controller, stimulator, walkers and
their seeds, scenarios, sensor, duration, rate, engine), so a resumed study reuses
exactly the rows it would recompute, and never the rows of a changed simulation.

The objective and constraints decide only the scoring columns (``objective``,
``violation``, ``feasible``). They are left out of the key and recomputed from the
stored metrics whenever a row is read: a study resumed with another objective or
other constraints re-scores every row without simulating again, and rewrites the
file so its scoring columns match the study.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from fes_sim.config.schema import to_mapping
from fes_sim.errors import ConfigError, OutputError
from fes_sim.plant import DEFAULT_PLANT_RATE_HZ
from fes_sim.tuning.metrics import METRICS
from fes_sim.tuning.workload import Workload

#: scoring columns, recomputed from the metrics on every read (:func:`fes_sim.tuning.metrics.score`)
RESULT_COLUMNS: tuple[str, ...] = ("objective", "violation", "feasible")

Scorer = Callable[[dict[str, float]], dict[str, Any]]


def fingerprint(workload: Workload, engine: str) -> str:
    """A digest of everything besides the parameter values that decides the metrics
    (not the objective or the constraints, which only score them)."""
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
    if workload.plant_rate_hz != DEFAULT_PLANT_RATE_HZ:  # absent at the default, so that results from before the field still resume
        data["plant_rate_hz"] = workload.plant_rate_hz
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def param_key(fp: str, values: Sequence[float | str]) -> str:
    """Key of one parameter set (numbers and named settings) under the study fingerprint ``fp``."""
    text = fp + "|" + ",".join(v if isinstance(v, str) else repr(float(v)) for v in values)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class ResultStore:
    """``results.csv``: read (and re-scored) on resume, appended to (and flushed) row by row.

    Parameters
    ----------
    path
        The CSV file.
    names
        Parameter paths, in study order (the parameter columns).
    score
        Scoring columns of a row from its metrics (the study's objective and constraints).
    resume
        Keep and reuse an existing file; without it an existing file is refused.
    """

    def __init__(self, path: Path, names: Sequence[str], score: Scorer, resume: bool) -> None:
        self.path = path
        self.names = tuple(names)
        self.score = score
        self.columns = ("key", *names, *METRICS, *RESULT_COLUMNS)
        self.rows: dict[str, dict[str, Any]] = {}
        exists = path.is_file() and path.stat().st_size > 0
        if exists and not resume:
            raise OutputError(f"{path} exists: pass --resume to continue that study, or choose another --out")
        if exists:
            self._read()
        self._write_all()

    def _read(self) -> None:
        n = len(self.names)
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
                try:
                    values = [_parse_value(text) for text in line[1:1 + n]]
                    metrics = {name: float(text) for name, text in zip(METRICS, line[1 + n:1 + n + len(METRICS)])}
                except ValueError:
                    continue
                self.rows[line[0]] = self._row(line[0], values, metrics)

    def _write_all(self) -> None:
        """Write the header and every row read (re-scored) to a new file, then append to it."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(self.columns)
                writer.writerows(self._cells(row) for row in self.rows.values())
            os.replace(tmp, self.path)
            self._fh = self.path.open("a", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write ({exc.strerror})") from None
        self._writer = csv.writer(self._fh)

    def _row(self, key: str, values: Sequence[float | str], metrics: dict[str, float]) -> dict[str, Any]:
        row: dict[str, Any] = {"key": key}
        row.update(zip(self.names, values, strict=True))
        row.update(metrics)
        row.update(self.score(metrics))
        return row

    def _cells(self, row: dict[str, Any]) -> list[str]:
        return [_cell(row[c]) for c in self.columns]

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def add(self, key: str, values: Sequence[float | str], metrics: dict[str, float]) -> dict[str, Any]:
        """Score one completed evaluation, append it and flush it to disk; return its row."""
        row = self.rows[key] = self._row(key, values, metrics)
        self._writer.writerow(self._cells(row))
        self._fh.flush()
        return row

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

def _parse_value(text: str) -> float | str:
    """A parameter cell: a number, or the name of a categorical setting."""
    try:
        return float(text)
    except ValueError:
        if not text:
            raise
        return text


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)
