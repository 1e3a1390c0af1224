"""Lesson 4: sensing the shank tilt, and how tilt errors move heel-off detection.

Part 1 feeds the same simulated IMU samples to two tilt estimators: the
accelerometer alone (atan2 of the two in-plane accelerometer axes) and the
gated complementary filter the device uses, and compares both with the true
tilt during push-off. Part 2 runs the tilt trigger on each estimate and scores
its heel-off events against the true ones. Part 3 moves the heel-off threshold.

    python examples/lesson4_sensing.py [OUTPUT_DIR]
"""

from __future__ import annotations

import numpy as np

from _course import answer, plt, save
from fes_sim.config import resolve
from fes_sim.control.config import EstimatorConfig
from fes_sim.detection.estimator import TiltEstimator
from fes_sim.detection.scoring import score_events
from fes_sim.plant import WalkingPlant
from fes_sim.samples import GaitEvent
from fes_sim.session import SimulationSession

SEED = 1
WALKER = "healthy"
#: a complementary filter that trusts the accelerometer completely (tau -> 0, gate never closes)
ACC_ONLY = EstimatorConfig(source="imu", tau_s=1e-4, acc_gate_g=2.0)
#: the device's default filter on the IMU channels: tau 1 s, vector-form correction frozen beyond |‖f‖ - g| = 1 g
FUSED = EstimatorConfig(source="imu")
FRACTIONS = (0.35, 0.5, 0.65)
#: a detected heel-off counts if it lies within this of a true one (the trigger fires well before the heel rises)
TOLERANCE_S = 0.3
SCORED_FROM_S = 3.0  # skip the first strides, while the threshold adapts


def tilt_traces(duration_s: float = 10.0) -> tuple[dict[str, np.ndarray], list[tuple[float, GaitEvent]]]:
    """True, accelerometer-only and fused tilt for the same samples."""
    plant = WalkingPlant(resolve("walker", WALKER))
    acc_only, fused = TiltEstimator(ACC_ONLY, plant.sample_rate_hz), TiltEstimator(FUSED, plant.sample_rate_hz)
    sample = plant.reset(SEED)
    rows = []
    for _ in range(int(duration_s * plant.sample_rate_hz)):
        rows.append((sample.t_s, plant.state.true_tilt_deg, acc_only.update(sample), fused.update(sample)))
        sample = plant.step(0.0, 0.0, 0.0)
    t, true, acc, fus = np.array(rows).T
    return {"t_s": t, "true": true, "acc_only": acc, "fused": fus}, list(plant.events)


def heel_off_score(controller) -> dict:
    """Heel-off detection scores of a 30 s walk with stimulation off (tolerance TOLERANCE_S)."""
    result = SimulationSession(resolve("walker", WALKER), controller).run(30.0, seed=SEED)
    scores = score_events(result.plant.events, result.trace.detected_events, TOLERANCE_S, (SCORED_FROM_S, 30.0))
    return scores[GaitEvent.HEEL_OFF].summary()


def main() -> None:
    sig, events = tilt_traces()
    t = sig["t_s"]
    ho = [tt for tt, e in events if e == GaitEvent.HEEL_OFF]
    to = [tt for tt, e in events if e == GaitEvent.TOE_OFF]
    pushes = [(a, min(b for b in to if b > a)) for a in ho if any(b > a for b in to) and a > 2.0]
    in_push = np.zeros(t.size, bool)
    for a, b in pushes:
        in_push |= (t >= a) & (t <= b)
    settled = t > 2.0  # let the fused filter converge from its first sample
    for name in ("acc_only", "fused"):
        err = sig[name] - sig["true"]
        answer(f"{name}_push_off_error_deg", err[in_push].mean(), "deg (mean, push-off)")
        answer(f"{name}_rms_error_deg", np.sqrt(np.mean(err[settled] ** 2)), "deg (rms, whole cycle)")

    off = resolve("controller", "off")
    scores = {name: heel_off_score(off.replace(estimator=est)) for name, est in (("acc_only", ACC_ONLY), ("fused", FUSED))}
    for name, s in scores.items():
        answer(f"{name}_heel_off_sensitivity", s["sensitivity"], "", ".2f")
        answer(f"{name}_heel_off_precision", s["precision"], "", ".2f")
    answer("fused_heel_off_error_ms", scores["fused"]["median_error_ms"], "ms (median, + = late)", ".0f")

    fused = off.replace(estimator=FUSED)
    by_fraction = {f: heel_off_score(fused.replace(tilt=fused.tilt.replace(heel_off_fraction=f))) for f in FRACTIONS}
    for f, s in by_fraction.items():
        err = s["median_error_ms"]
        answer(f"fraction_{f * 100:.0f}_heel_off_sensitivity", s["sensitivity"], "", ".2f")
        if np.isfinite(err):
            answer(f"fraction_{f * 100:.0f}_heel_off_error_ms", err, "ms (median, + = late)", ".0f")

    fig = plt.figure(figsize=(10, 7.5))
    grid = fig.add_gridspec(2, 2)
    ax = fig.add_subplot(grid[0, :])
    show = (t >= pushes[2][0] - 0.5) & (t <= pushes[3][1] + 0.6)
    ax.plot(t[show], sig["true"][show], "k", lw=2, label="true tilt")
    ax.plot(t[show], sig["acc_only"][show], color="tab:red", lw=1, label="accelerometer only")
    ax.plot(t[show], sig["fused"][show], color="tab:blue", lw=1.2, label="fused (complementary filter, tau 1 s)")
    for a, b in pushes:
        if t[show][0] <= a <= t[show][-1]:
            ax.axvspan(a, b, color="tab:orange", alpha=0.15, lw=0)
    ax.set_xlim(t[show][0], t[show][-1])
    ax.set_ylabel("shank tilt (deg)")
    ax.set_xlabel("time (s); orange = push-off (true heel-off to toe-off)")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{WALKER} walker: the same IMU samples, two tilt estimates")

    ax = fig.add_subplot(grid[1, 0])
    names = list(scores)
    x = np.arange(len(names))
    ax.bar(x - 0.2, [scores[n]["sensitivity"] for n in names], 0.4, label="sensitivity")
    ax.bar(x + 0.2, [scores[n]["precision"] for n in names], 0.4, label="precision")
    ax.set_xticks(x, [n.replace("_", " ") for n in names])
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    ax.set_title(f"heel-off detection, 30 s walk, within {TOLERANCE_S * 1000:.0f} ms", fontsize=10)

    ax = fig.add_subplot(grid[1, 1])
    errs = [by_fraction[f]["median_error_ms"] for f in FRACTIONS]
    sens = [by_fraction[f]["sensitivity"] for f in FRACTIONS]
    ax.bar(range(len(FRACTIONS)), errs, color="tab:blue")
    for i, (e, s) in enumerate(zip(errs, sens)):
        ax.text(i, e if np.isfinite(e) else 0, f"sens. {s:.2f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(range(len(FRACTIONS)), [f"{f:.2f}" for f in FRACTIONS])
    ax.set_xlabel("heel_off_fraction (threshold as a fraction of the tilt range)")
    ax.set_ylabel("median heel-off error (ms), + = late")
    ax.set_title("moving the threshold (fused tilt)", fontsize=10)
    fig.tight_layout()
    save(fig, "lesson4_sensing")


if __name__ == "__main__":
    main()
