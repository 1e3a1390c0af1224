"""Small, fast studies for the fes tune tests (seconds of walking, one or two walkers)."""

from __future__ import annotations

from pathlib import Path

BASE = """\
name = "{name}"
controller = "walkaide_tilt"
stimulator = "default"
scenarios = {scenarios}
duration_s = {duration_s}
engine = "{engine}"
plant_rate_hz = {plant_rate_hz}

[walkers]
walker = "drop_foot_severe"
population = {population}

[search]
method = "{method}"
samples = {samples}
grid_points = 2
maxiter = 1
popsize = 2
chunk = 2

[[parameters]]
path = "stimulation.current_ma"
lo = 15.0
hi = 40.0

[[parameters]]
path = "stimulation.ramp_up_ms"
lo = 0.0
hi = 150.0

[objective]
metric = "charge_per_stride_uc"

[[constraints]]
metric = "mtc_p5_mm"
min = 0.0
"""


def write_study(tmp_path: Path, extra: str = "", **kw: object) -> Path:
    """A study file in ``tmp_path``; keyword arguments fill :data:`BASE`, ``extra`` is appended."""
    fields = dict(name="t", scenarios='["walk"]', duration_s=4.0, engine="lanes", population=2, method="random", samples=4, plant_rate_hz=1000.0)
    fields.update(kw)
    path = tmp_path / f"{fields['name']}.toml"
    path.write_text(BASE.format(**fields) + extra, encoding="utf-8")
    return path
