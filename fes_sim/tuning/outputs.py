"""What a finished study leaves besides ``results.csv``.

* ``best_controller.toml``: the best parameter set applied to the base controller,
  loadable by ``fes run --controller``, and ``best_stimulator.toml`` (its stimulator,
  for ``--stimulator``) when the study searches ``stimulator.*`` fields;
* ``pareto.png``: charge per stride against MTC p5, the non-dominated sets joined;
* ``sensitivity_<parameter>.png``: the objective and each constrained metric against
  one parameter, one file per parameter;
* ``summary.txt``: counts, the best set and its metrics, Spearman rank
  correlations of each numeric parameter with the objective, and the objective's
  mean for each named setting of a categorical parameter.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from fes_sim.config.schema import to_toml
from fes_sim.errors import OutputError
from fes_sim.tuning.metrics import METRICS
from fes_sim.tuning.runner import StudyResult
from fes_sim.tuning.space import STIMULATOR

PARETO_X, PARETO_Y = "charge_per_stride_uc", "mtc_p5_mm"


def pareto_front(rows: Sequence[dict[str, Any]], x: str = PARETO_X, y: str = PARETO_Y) -> list[dict[str, Any]]:
    """Rows no other row beats on both less ``x`` and more ``y`` (finite values only), by ``x``."""
    pts = sorted((r for r in rows if math.isfinite(r[x]) and math.isfinite(r[y])), key=lambda r: (r[x], -r[y]))
    front, best_y = [], -math.inf
    for r in pts:
        if r[y] > best_y:
            front.append(r)
            best_y = r[y]
    return front


def _label(name: str) -> str:
    desc, unit = METRICS[name]
    return f"{name} ({unit})" if unit else name


def plot_pareto(result: StudyResult, path: Path) -> Path:
    """Charge per stride against MTC p5, feasible sets filled, Pareto front joined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result.rows
    fig, ax = plt.subplots(figsize=(7, 5))
    for feasible, style in ((False, dict(facecolors="none", edgecolors="tab:gray", label="misses a constraint")),
                            (True, dict(color="tab:blue", label="feasible"))):
        sel = [r for r in rows if r["feasible"] == feasible]
        ax.scatter([r[PARETO_X] for r in sel], [r[PARETO_Y] for r in sel], s=18, **style)
    front = pareto_front(rows)
    ax.plot([r[PARETO_X] for r in front], [r[PARETO_Y] for r in front], "-", color="tab:orange", drawstyle="steps-post", label="Pareto front")
    if result.best is not None:
        ax.scatter([result.best[PARETO_X]], [result.best[PARETO_Y]], marker="*", s=200, color="tab:red", label="best", zorder=5)
    for c in result.study.constraints:
        if c.metric == PARETO_Y and c.min is not None:
            ax.axhline(c.min, ls="--", color="tab:green", lw=1, label=f"{PARETO_Y} >= {c.min:g}")
    ax.set_xlabel(_label(PARETO_X))
    ax.set_ylabel(_label(PARETO_Y))
    ax.set_title(f"{result.study.name}: charge against clearance ({len(rows)} parameter sets)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sensitivity(result: StudyResult, name: str, path: Path) -> Path:
    """The objective and every constrained metric against parameter ``name``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    study = result.study
    metrics = [study.objective.metric] + [c.metric for c in study.constraints if c.metric != study.objective.metric]
    metrics = list(dict.fromkeys(metrics))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(6, 2.4 * len(metrics)), sharex=True, squeeze=False)
    x = np.array([r[name] for r in result.rows])
    ok = np.array([r["feasible"] for r in result.rows], dtype=bool)
    for ax, m in zip(axes[:, 0], metrics):
        y = np.array([r[m] for r in result.rows])
        ax.scatter(x[~ok], y[~ok], s=12, facecolors="none", edgecolors="tab:gray")
        ax.scatter(x[ok], y[ok], s=12, color="tab:blue")
        for c in study.constraints:
            if c.metric == m:
                for bound in (c.min, c.max):
                    if bound is not None:
                        ax.axhline(bound, ls="--", color="tab:green", lw=1)
        ax.set_ylabel(_label(m), fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(name)
    axes[0, 0].set_title(f"{study.name}: sensitivity to {name}\n(filled: meets every constraint)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def rank_correlations(result: StudyResult) -> dict[str, float]:
    """Spearman correlation of each numeric parameter with the objective metric (``nan`` if undefined)."""
    from scipy.stats import spearmanr

    m = result.study.objective.metric
    out = {}
    for name in _numeric_names(result):
        pairs = np.array([(r[name], r[m]) for r in result.rows if math.isfinite(r[m])], dtype=float).reshape(-1, 2)
        if len(pairs) < 3 or np.ptp(pairs[:, 0]) == 0 or np.ptp(pairs[:, 1]) == 0:
            out[name] = math.nan
        else:
            out[name] = float(spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
    return out


def means_by_setting(result: StudyResult) -> dict[str, dict[str, float]]:
    """Mean of the objective metric over the sets with each named setting, per categorical parameter."""
    m = result.study.objective.metric
    out = {}
    for p in result.workload.space.parameters:
        if p.categorical:
            values = {v: [r[m] for r in result.rows if r[p.path] == v and math.isfinite(r[m])] for v in p.values}
            out[p.path] = {str(v): float(np.mean(x)) if x else math.nan for v, x in values.items()}
    return out


def _numeric_names(result: StudyResult) -> list[str]:
    return [p.path for p in result.workload.space.parameters if not p.categorical]


def _fmt(value: float | str, digits: int = 4) -> str:
    return value if isinstance(value, str) else f"{value:.{digits}g}"


def summary_text(result: StudyResult, files: Sequence[Path] = ()) -> str:
    """A short human-readable account of the study."""
    s, w = result.study, result.workload
    feasible = sum(r["feasible"] for r in result.rows)
    lines = [
        f"study {s.name}: {s.search.method}, {len(result.rows)} parameter sets "
        f"({result.evaluated} evaluated now, {result.reused} from results.csv), {feasible} feasible",
        f"walkers: {len(w.walkers)} x scenarios {', '.join(sc.name for sc in w.scenarios)} x {s.duration_s:g} s, "
        f"engine {s.engine}, ran on {result.where}",
        f"objective: {s.objective.goal} {s.objective.metric}; constraints: "
        + (", ".join(_constraint_text(c) for c in s.constraints) or "none"),
    ]
    b = result.best
    if b is None:
        lines.append("no parameter set evaluated")
    else:
        lines.append("best (feasible):" if b["feasible"] else f"no feasible set; closest (misses by {b['violation']:.3g}):")
        lines += [f"  {name} = {_fmt(b[name])}" for name in w.space.names]
        lines += [f"  -> {m} = {b[m]:.4g}" for m in METRICS if math.isfinite(b[m])]
    corr = rank_correlations(result)
    if corr:
        lines.append(f"rank correlation with {s.objective.metric}: " + ", ".join(f"{k} {v:+.2f}" for k, v in corr.items()))
    for name, means in means_by_setting(result).items():
        lines.append(f"mean {s.objective.metric} by {name}: " + ", ".join(f"{k} {v:.4g}" for k, v in means.items()))
    if files:
        lines.append("wrote " + ", ".join(str(f) for f in files))
    return "\n".join(lines)


def _constraint_text(c: Any) -> str:
    parts = []
    if c.min is not None:
        parts.append(f"{c.metric} >= {c.min:g}")
    if c.max is not None:
        parts.append(f"{c.metric} <= {c.max:g}")
    return " and ".join(parts)


def write_outputs(result: StudyResult, out_dir: Path) -> list[Path]:
    """Write the best controller, the plots and ``summary.txt``; return the paths written."""
    files: list[Path] = [out_dir / "results.csv"]
    try:
        if result.best is not None:
            best = result.workload.space.apply([result.best[n] for n in result.workload.space.names])
            status = "feasible" if result.best["feasible"] else f"infeasible (misses constraints by {result.best['violation']:.3g})"
            header = (
                f"controller from fes tune study '{result.study.name}': best of {len(result.rows)} parameter sets, {status}\n"
                + "\n".join(f"{n} = {_fmt(result.best[n], 6)}" for n in result.workload.space.names)
            )
            path = out_dir / "best_controller.toml"
            path.write_text(to_toml(best, header=header), encoding="utf-8")
            files.append(path)
            if any(n.startswith(STIMULATOR) for n in result.workload.space.names):
                limits = result.workload.space.stimulator_for([result.best[n] for n in result.workload.space.names])
                path = out_dir / "best_stimulator.toml"
                path.write_text(to_toml(limits, header=header.replace("controller from", "stimulator from", 1)), encoding="utf-8")
                files.append(path)
            files.append(plot_pareto(result, out_dir / "pareto.png"))
            for name in result.workload.space.names:
                files.append(plot_sensitivity(result, name, out_dir / f"sensitivity_{name.replace('.', '_')}.png"))
        summary = out_dir / "summary.txt"
        files.append(summary)
        summary.write_text(summary_text(result, files) + "\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write outputs ({exc.strerror})") from None
    result.files = files
    return files
