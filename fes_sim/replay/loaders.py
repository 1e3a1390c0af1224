"""Readers of recorded shank data for ``fes replay``: our format, NONAN CSV, generic CSV.

Every loader returns a :class:`Recording`: sensor channels named as the
:class:`~fes_sim.samples.ShankSample` fields, in the project's frame, plus the
reference events when the file has them.

* **Our recording format** (``docs/architecture.md``): ``# fes-sim recording v1``
  comment lines, then a header; reference events from ``NAME_events.csv``.
* **NONAN GaitPrint CSV** (Wiles et al. 2023, Sci Data 10:867): ``shank_pitch_lt_deg``
  etc. at 200 Hz. Its shank pitch is positive with the ankle ahead of the knee,
  the opposite of our tilt, so ``tilt_deg = −shank_pitch``. Heel strike and toe-off
  come from the contact flags (0 → 1000, 1000 → 0). Heel-off comes from the foot
  pitch, see :func:`heel_off_from_foot_pitch`.
* **Generic CSV**: a header with ``t_s`` and any of the sensor columns (plus an
  optional clinician ``hand_switch`` column, 1 = pressed); reference events from
  ``NAME_events.csv`` (``t_s,event``) or an explicit events file.

Axis mapping: ``"x=-z,y=x,z=-y,tilt=-tilt"`` sets each project channel from a file
channel, optionally negated (for ``x``, ``y``, ``z`` both ``acc_*`` and ``gyr_*``
move together). Without a mapping, :func:`detect_orientation` finds the sagittal
axis and the sign from the signals themselves and says what it found.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fes_sim.errors import RecordingError
from fes_sim.recording import TRUTH_COLUMNS
from fes_sim.samples import SAMPLE_FIELDS, GaitEvent

SENSOR_COLUMNS: tuple[str, ...] = tuple(f for f in SAMPLE_FIELDS if f != "t_s")
_AXES = ("x", "y", "z")


@dataclass
class Recording:
    """Sensor channels of one leg, in the project frame, and reference events.

    Attributes
    ----------
    t_s : ndarray
        Sample times.
    channels : dict of str to ndarray
        ``ShankSample`` field name → values (missing channels are absent).
    events : list of (float, GaitEvent)
        Reference events, sorted by time (empty when the file has none).
    sample_rate_hz : float
        Median sample rate.
    source : str
        Format that was read (``fes-sim``, ``nonan``, ``generic``).
    notes : list of str
        What the loader decided (sign conventions, detected axes), for the user.
    hand_switch : ndarray or None
        A clinician's hand-switch column (1 = pressed), when the file has one.
    truth : dict of str to ndarray
        Simulator ground truth of a project recording (``true_tilt_deg``,
        ``ankle_deg``, ``foot_pitch_deg``, ``toe_height_mm``, ``torque_nm``,
        ``fatigue`` as floats, ``activity`` as strings), the columns the file has;
        empty for real sensors.
    """

    t_s: np.ndarray
    channels: dict[str, np.ndarray]
    events: list[tuple[float, GaitEvent]] = field(default_factory=list)
    sample_rate_hz: float = 200.0
    source: str = ""
    notes: list[str] = field(default_factory=list)
    path: Path | None = None
    hand_switch: np.ndarray | None = None
    truth: dict[str, np.ndarray] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        """A channel, or all-nan when the recording lacks it."""
        return self.channels.get(name, np.full(self.t_s.shape, np.nan))


def _rate(t: np.ndarray, path: Path) -> float:
    if t.size < 2:
        raise RecordingError(f"{path}: needs at least two samples, found {t.size}")
    dt = np.diff(t)
    good = dt[np.isfinite(dt) & (dt > 0)]
    if good.size == 0:
        raise RecordingError(f"{path}: column t_s never increases")
    return float(1.0 / np.median(good))


def _read_table(path: Path) -> tuple[list[str], list[str], np.ndarray | list[list[str]]]:
    """Comment lines, header and raw rows of a CSV file."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            comments: list[str] = []
            pos_line = fh.readline()
            while pos_line.startswith("#"):
                comments.append(pos_line.rstrip("\n"))
                pos_line = fh.readline()
            if not pos_line:
                raise RecordingError(f"{path}: no header line")
            header = [h.strip() for h in next(csv.reader([pos_line]))]
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: is a directory, not a recording") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror})") from None
    return comments, header, rows


def _numeric(path: Path, header: list[str], rows: list[list[str]], names: list[str]) -> dict[str, np.ndarray]:
    """Parse the named columns as floats (empty cells and ``nan`` become nan)."""
    idx = {h: i for i, h in enumerate(header)}
    out = {n: np.full(len(rows), np.nan) for n in names}
    for r, row in enumerate(rows):
        if len(row) != len(header):
            if not any(c.strip() for c in row):
                continue
            raise RecordingError(f"{path}: data row {r + 1}: {len(row)} cells, header has {len(header)}")
        for n in names:
            cell = row[idx[n]].strip()
            if cell:
                try:
                    out[n][r] = float(cell)
                except ValueError:
                    raise RecordingError(f"{path}: column {n!r}, data row {r + 1}: {cell!r} is not a number") from None
    return out


def read_events(path: str | Path) -> list[tuple[float, GaitEvent]]:
    """A ``t_s,event`` file; raises RecordingError naming the line of a bad row."""
    p = Path(path)
    _, header, rows = _read_table(p)
    if header[:2] != ["t_s", "event"]:
        raise RecordingError(f"{p}: events file needs the header 't_s,event', found {','.join(header)!r}")
    events = []
    for i, row in enumerate(rows, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        try:
            events.append((float(row[0]), GaitEvent.from_label(row[1])))
        except (ValueError, IndexError) as exc:
            raise RecordingError(f"{p}: line {i}: {exc}") from None
    events.sort(key=lambda e: e[0])
    return events


def parse_axis_map(text: str) -> dict[str, tuple[str, float]]:
    """Parse ``"x=-z,y=x,z=-y,tilt=-tilt"`` into ``{target: (source, sign)}``."""
    result: dict[str, tuple[str, float]] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        target, sep, source = part.partition("=")
        target, source = target.strip(), source.strip()
        sign = 1.0
        if source.startswith(("-", "+")):
            sign = -1.0 if source[0] == "-" else 1.0
            source = source[1:]
        valid = set(_AXES) | {"tilt"}
        if not sep or target not in valid or source not in valid or (target == "tilt") != (source == "tilt"):
            raise RecordingError(
                f"axis mapping {part!r}: expected TARGET=[-]SOURCE with x, y, z (IMU axes) or tilt=[-]tilt"
            )
        if target in result:
            raise RecordingError(f"axis mapping: {target!r} is given twice")
        result[target] = (source, sign)
    return result


def apply_axis_map(channels: dict[str, np.ndarray], mapping: dict[str, tuple[str, float]]) -> dict[str, np.ndarray]:
    """New channels with every mapped IMU axis and the tilt remapped. A file axis that
    became another project axis does not also stay under its own name."""
    out = dict(channels)
    sources = {src for target, (src, _) in mapping.items() if target != "tilt"}
    for axis in sources - set(mapping):
        out.pop(f"acc_{axis}_mps2", None)
        out.pop(f"gyr_{axis}_dps", None)
    for target, (source, sign) in mapping.items():
        if target == "tilt":
            if "tilt_deg" in channels:
                out["tilt_deg"] = sign * channels["tilt_deg"]
            continue
        for kind, unit in (("acc", "mps2"), ("gyr", "dps")):
            src = f"{kind}_{source}_{unit}"
            dst = f"{kind}_{target}_{unit}"
            if src in channels:
                out[dst] = sign * channels[src]
            else:
                out.pop(dst, None)
    return out


def detect_orientation(channels: dict[str, np.ndarray]) -> tuple[dict[str, tuple[str, float]], list[str]]:
    """Guess the axis mapping from a walking recording.

    * The sagittal gyro axis is the one with the largest rms rate. Its sign makes
      the mid-swing peak (fast backward shank rotation, about −350 °/s in Winter's
      data) negative, the pre-swing peak (about +190 °/s) positive: the larger of
      the 1st/99th percentile magnitudes must be the negative one.
    * The shank axis ``x`` is the accelerometer axis whose mean is largest in
      magnitude (gravity along the shank), signed to read +g.
    * ``y`` is the remaining axis, signed so that the frame is right-handed.
    * A tilt channel is signed the same way as the gyro: its fastest changes,
      the swing, must be decreases.
    """
    mapping: dict[str, tuple[str, float]] = {}
    notes: list[str] = []
    gyr = {a: channels[f"gyr_{a}_dps"] for a in _AXES if f"gyr_{a}_dps" in channels}
    acc = {a: channels[f"acc_{a}_mps2"] for a in _AXES if f"acc_{a}_mps2" in channels}
    if gyr:
        z = max(gyr, key=lambda a: float(np.nanmean(gyr[a] ** 2)))
        lo, hi = np.nanpercentile(gyr[z], [1, 99])
        zs = 1.0 if abs(lo) >= abs(hi) else -1.0
        mapping["z"] = (z, zs)
        sgn = lambda s: "-" if s < 0 else ""  # noqa: E731
        rest = [a for a in _AXES if a != z]
        acc_rest = [a for a in rest if a in acc]
        if acc_rest:
            x = max(acc_rest, key=lambda a: abs(float(np.nanmean(acc[a]))))
            xs = 1.0 if np.nanmean(acc[x]) >= 0 else -1.0
            y = next(a for a in rest if a != x)
            # right-handed: sign of the permutation (x, y, z) times xs*zs decides y's sign
            perm = [_AXES.index(x), _AXES.index(y), _AXES.index(z)]
            parity = 1.0 if perm in ([0, 1, 2], [1, 2, 0], [2, 0, 1]) else -1.0
            ys = parity * xs * zs
            mapping.update({"x": (x, xs), "y": (y, ys)})
            notes.append(
                f"sensor axes detected: x={sgn(xs)}{x} (gravity along the shank), "
                f"z={sgn(zs)}{z} (sagittal gyro, swing negative), y={sgn(ys)}{y} (right-handed)"
            )
        else:
            notes.append(f"sensor axes detected: z={sgn(zs)}{z} (sagittal gyro, swing negative); no accelerometer")
        if len(gyr) < 3 or len(acc) < 3:
            notes.append(f"the file has {len(gyr)} gyro and {len(acc)} accelerometer axes; axes it lacks stay empty")
    if "tilt_deg" in channels:
        tilt = channels["tilt_deg"]
        rate = np.diff(tilt[np.isfinite(tilt)])
        if rate.size > 10:
            lo, hi = np.percentile(rate, [1, 99])
            ts = 1.0 if abs(lo) >= abs(hi) else -1.0
            mapping["tilt"] = ("tilt", ts)
            notes.append(f"tilt sign detected: {'kept' if ts > 0 else 'negated'} (fast swing phase must be a decrease)")
    return mapping, notes


def _orient(rec: Recording, axis_map: str | None) -> Recording:
    if axis_map:
        mapping = parse_axis_map(axis_map)
        rec.notes.append(f"axis mapping given: {axis_map}")
    else:
        mapping, notes = detect_orientation(rec.channels)
        rec.notes.extend(notes)
    rec.channels = apply_axis_map(rec.channels, mapping)
    return rec


def heel_off_from_foot_pitch(t_s: np.ndarray, foot_pitch_deg: np.ndarray, hs_idx, to_idx, drop_deg: float = 3.0):
    """Reference heel-off times from the foot pitch of each stance.

    For each stance (heel strike → next toe-off), foot-flat is the sample of the
    first 60 % of stance where the foot pitch changes slowest; heel-off is the
    first later sample where the pitch has fallen more than ``drop_deg`` below its
    foot-flat value (heel rising, toe pointing down). NONAN's foot pitch is
    negative with the toe down.
    """
    out = []
    to_idx = np.asarray(to_idx)
    for h in hs_idx:
        later = to_idx[to_idx > h]
        if later.size == 0:
            continue
        o = int(later[0])
        seg = foot_pitch_deg[h:o]
        if seg.size < 10:
            continue
        rate = np.abs(np.diff(seg))
        flat = int(np.argmin(rate[: max(1, int(0.6 * rate.size))]))
        below = np.nonzero(seg[flat:] < seg[flat] - drop_deg)[0]
        if below.size:
            out.append(float(t_s[h + flat + below[0]]))
    return out


def load_nonan(path: str | Path, leg: str = "right") -> Recording:
    """One leg of a NONAN GaitPrint CSV (``leg`` is ``left``/``right`` or ``lt``/``rt``)."""
    p = Path(path)
    side = {"left": "lt", "lt": "lt", "l": "lt", "right": "rt", "rt": "rt", "r": "rt"}.get(leg.lower())
    if side is None:
        raise RecordingError(f"leg {leg!r}: expected left or right")
    _, header, rows = _read_table(p)
    need = ["time", f"shank_pitch_{side}_deg", f"contact_{side}", f"foot_pitch_{side}_deg"]
    missing = [n for n in need if n not in header]
    if missing:
        raise RecordingError(f"{p}: NONAN file lacks column(s) {', '.join(missing)}")
    cols = _numeric(p, header, rows, need)
    t = cols["time"]
    contact = cols[f"contact_{side}"] > 500
    hs = np.nonzero(~contact[:-1] & contact[1:])[0] + 1
    to = np.nonzero(contact[:-1] & ~contact[1:])[0] + 1
    events = [(float(t[i]), GaitEvent.HEEL_STRIKE) for i in hs] + [(float(t[i]), GaitEvent.TOE_OFF) for i in to]
    events += [(x, GaitEvent.HEEL_OFF) for x in heel_off_from_foot_pitch(t, cols[f"foot_pitch_{side}_deg"], hs, to)]
    events.sort(key=lambda e: e[0])
    rec = Recording(
        t_s=t,
        channels={"tilt_deg": -cols[f"shank_pitch_{side}_deg"]},
        events=events,
        sample_rate_hz=_rate(t, p),
        source="nonan",
        notes=[f"NONAN {side} leg: tilt_deg = -shank_pitch_{side}_deg (NONAN's pitch is positive with the ankle ahead)"],
        path=p,
    )
    return rec


def _load_columns(p: Path, header: list[str], rows, source: str, events_file, axis_map) -> Recording:
    if "t_s" not in header:
        raise RecordingError(f"{p}: no 't_s' column (found {', '.join(header)})")
    present = [c for c in SENSOR_COLUMNS if c in header]
    if not present:
        raise RecordingError(f"{p}: no sensor column; expected any of {', '.join(SENSOR_COLUMNS)}")
    extra = ["hand_switch"] if "hand_switch" in header else []
    cols = _numeric(p, header, rows, ["t_s", *present, *extra])
    t = cols.pop("t_s")
    hand = cols.pop("hand_switch", None)
    channels = {k: v for k, v in cols.items() if np.isfinite(v).any()}
    ev_path = Path(events_file) if events_file else p.with_name(f"{p.stem}_events.csv")
    events = read_events(ev_path) if (events_file or ev_path.is_file()) else []
    rec = Recording(t_s=t, channels=channels, events=events, sample_rate_hz=_rate(t, p), source=source, path=p,
                    hand_switch=hand)
    if events:
        rec.notes.append(f"reference events from {ev_path}")
    return rec


def _truth(p: Path, header: list[str], rows) -> dict[str, np.ndarray]:
    """The simulator ground-truth columns present in a project recording."""
    names = [c for c in TRUTH_COLUMNS if c in header and c != "activity"]
    truth = _numeric(p, header, rows, names)
    if "activity" in header:
        i = header.index("activity")
        truth["activity"] = np.array([row[i].strip() if len(row) > i else "" for row in rows], dtype=str)
    return truth


def load_recording(
    path: str | Path, leg: str = "right", events_file: str | Path | None = None, axis_map: str | None = None
) -> Recording:
    """Read any supported file, recognised by its first line or header.

    ``axis_map`` applies to generic CSV files (our own format and NONAN are
    already in the project frame); without it the orientation is detected.
    """
    p = Path(path)
    rec = _load_any(p, *_read_table(p), leg, events_file, axis_map)
    if rec.source != "nonan" and leg.lower() not in ("right", "rt", "r"):
        rec.notes.append(f"leg {leg!r} ignored: {p.name} holds one leg")
    return rec


def _load_any(p: Path, comments, header, rows, leg: str, events_file, axis_map: str | None) -> Recording:
    if comments and comments[0].startswith("# fes-sim recording"):
        rec = _load_columns(p, header, rows, "fes-sim", events_file, None)
        rec.truth = _truth(p, header, rows)
        for line in comments[1:]:
            key, _, value = line.lstrip("# ").partition("=")
            if key.strip() == "sample_rate_hz":
                try:
                    rec.sample_rate_hz = float(value)
                except ValueError:
                    raise RecordingError(f"{p}: bad sample_rate_hz comment {line!r}") from None
        if axis_map:
            rec = _orient(rec, axis_map)
        return rec
    if any(h.startswith("shank_pitch_") for h in header):
        rec = load_nonan(p, leg)
        if events_file:
            rec.events = read_events(events_file)
        if axis_map:
            rec = _orient(rec, axis_map)
        return rec
    return _orient(_load_columns(p, header, rows, "generic", events_file, axis_map), axis_map)
