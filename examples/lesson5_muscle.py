"""Lesson 5: the stimulated muscle. Recruitment, activation delay and fatigue.

Part 1 draws the severe walker's recruitment curve (fraction of the muscle excited
against current at 250 us) and its torque response to a step of stimulation
(electromechanical delay, then first-order activation). Part 2 walks the severe
walker for 10 minutes at 50 mA three ways: 40 Hz, 20 Hz, and 40 Hz with a later
onset that lowers the duty cycle, and follows the muscle's fatigue state and the
toe clearance. Part 3 checks the 40 Hz setting against a stimulator with a
stricter duty-cycle limit: the worst case the limit bounds, the refusal, and the
pause between bursts it would demand.

    python examples/lesson5_muscle.py [OUTPUT_DIR]
"""

from __future__ import annotations

import numpy as np

from _course import answer, plt, save
from fes_sim.body import muscle
from fes_sim.config import resolve
from fes_sim.device import DevicePipeline
from fes_sim.errors import SafetyLimitError
from fes_sim.loop import ClosedLoop
from fes_sim.plant import WalkingPlant

SEED = 1
WALKER = "drop_foot_severe"
WALK_S = 600.0
CURRENT_MA = 50.0
PULSE_WIDTH_US = 250.0
VARIANTS = {  # name -> changes to the stimulation settings
    "40 Hz": {"frequency_hz": 40.0},
    "20 Hz": {"frequency_hz": 20.0},
    "40 Hz, later onset": {"frequency_hz": 40.0, "delay_ms": 300.0},
}
#: max_duty_cycle of the stricter stimulator in part 3 (the default allows 0.95)
STRICT_DUTY = 0.5


def controller(changes: dict[str, float]):
    """``walkaide_tilt`` at 50 mA, 250 us, with ``changes`` to its stimulation settings."""
    base = resolve("controller", "walkaide_tilt")
    return base.replace(stimulation=base.stimulation.replace(current_ma=CURRENT_MA, pulse_width_us=PULSE_WIDTH_US, **changes))


def step_response(walker, dt_s: float = 0.001, span_s: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Activation after full stimulation switches on at t = 0: the delay, then da/dt = (u - a)(u/tau_act + ...)."""
    t = np.arange(0.0, span_s, dt_s)
    a, out = 0.0, []
    for tk in t:
        u = 1.0 if tk >= walker.emd_ms * 1e-3 else 0.0
        a = muscle.activation_step(a, u, dt_s, walker.tau_act_ms * 1e-3, walker.tau_deact_ms * 1e-3)
        out.append(a)
    return t, np.array(out)


def long_walk(changes: dict[str, float]) -> tuple[np.ndarray, np.ndarray, list, float]:
    """10 minutes of walking: fatigue state once a second, the strides, and the fraction of time stimulated."""
    plant = WalkingPlant(resolve("walker", WALKER))
    loop = ClosedLoop(plant, DevicePipeline(controller(changes), resolve("stimulator", "default")))
    loop.reset(SEED)
    per_s = int(plant.sample_rate_hz)
    t, fatigue = [], []
    on = 0
    for k in range(1, int(WALK_S * per_s) + 1):
        out = loop.step()
        on += out.envelope > 0.0
        if k % per_s == 0:
            t.append(k / per_s)
            fatigue.append(plant.state.fatigue)
    duty = on / (WALK_S * per_s)
    return np.array(t), np.array(fatigue), plant.strides, duty


def duty_cycle_limit() -> None:
    """The stimulator's max_duty_cycle bounds the worst case a controller allows, checked when it is programmed."""
    st = controller(VARIANTS["40 Hz"]).stimulation
    worst = st.max_on_time_s / (st.max_on_time_s + st.min_off_time_ms * 1e-3)
    answer("worst_case_duty_pct", 100 * worst, "% (max_on_time_s / (max_on_time_s + min_off_time_ms))", ".0f")
    strict = resolve("stimulator", "default").replace(max_duty_cycle=STRICT_DUTY)
    try:
        DevicePipeline(controller(VARIANTS["40 Hz"]), strict)
        print(f"max_duty_cycle {STRICT_DUTY}: accepted")
    except SafetyLimitError as exc:
        print(f"max_duty_cycle {STRICT_DUTY}: refused ({exc})")
    needed_off_ms = 1000 * st.max_on_time_s * (1 / STRICT_DUTY - 1)
    answer("min_off_for_strict_duty_ms", needed_off_ms, f"ms of pause after each burst for max_duty_cycle {STRICT_DUTY}", ".0f")
    DevicePipeline(controller({**VARIANTS["40 Hz"], "min_off_time_ms": needed_off_ms}), strict)  # now accepted


def main() -> None:
    walker = resolve("walker", WALKER)
    currents = np.linspace(0.0, 80.0, 161)
    recruited = np.array([muscle.recruitment(walker.recruitment, i, PULSE_WIDTH_US, walker.charge_half_uc, walker.charge_width_uc) for i in currents])
    half = currents[np.argmax(recruited >= 0.5)]
    answer("half_recruitment_ma", half, "mA at 250 us")
    for f in (20.0, 40.0):
        answer(f"fusion_{f:.0f}hz", muscle.fusion_factor(f, walker.fusion_constant_s), "of the fused force", ".2f")
    t_step, a_step = step_response(walker)
    answer("time_to_90pct_ms", 1000 * t_step[np.argmax(a_step >= 0.9)], "ms", ".0f")

    walks = {name: long_walk(changes) for name, changes in VARIANTS.items()}
    for name, (t, fatigue, strides, duty) in walks.items():
        key = name.replace(" Hz", "hz").replace(", later onset", "_late").replace(" ", "")
        mtc = np.array([s.mtc_mm for s in strides])
        t_end = np.array([s.t_end_s for s in strides])
        answer(f"duty_{key}_pct", 100 * duty, "% of the time on", ".0f")
        answer(f"fatigue_end_{key}", fatigue[-1], "(1 = fresh)", ".2f")
        answer(f"mtc_first_min_{key}_mm", np.median(mtc[t_end < 60]), "mm")
        answer(f"mtc_last_min_{key}_mm", np.median(mtc[t_end > WALK_S - 60]), "mm")

    duty_cycle_limit()

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    ax = axes[0, 0]
    ax.plot(currents, recruited, color="tab:blue")
    ax.axvline(CURRENT_MA, color="0.5", ls=":", label=f"{CURRENT_MA:.0f} mA")
    ax.set_xlabel(f"current (mA) at {PULSE_WIDTH_US:.0f} us")
    ax.set_ylabel("fraction recruited")
    ax.set_title(f"recruitment ({walker.recruitment} in charge)", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(1000 * t_step, a_step, color="tab:blue")
    ax.axvline(walker.emd_ms, color="0.5", ls=":", label=f"delay {walker.emd_ms:.0f} ms")
    ax.set_xlabel("time after stimulation starts (ms)")
    ax.set_ylabel("activation")
    ax.set_title(f"step response (tau_act {walker.tau_act_ms:.0f} ms)", fontsize=10)
    ax.legend(fontsize=8)
    colors = ("k", "tab:orange", "tab:green")
    for (name, (t, fatigue, strides, _)), color in zip(walks.items(), colors):
        axes[1, 0].plot(t / 60, fatigue, color=color, label=name)
        t_end = np.array([s.t_end_s for s in strides]) / 60
        mtc = np.array([s.mtc_mm for s in strides])
        minute = np.floor(t_end)
        per_min = [np.median(mtc[minute == m]) for m in range(int(WALK_S // 60))]
        axes[1, 1].plot(np.arange(len(per_min)) + 0.5, per_min, "o-", color=color, label=name)
    axes[1, 0].set_xlabel("time (min)")
    axes[1, 0].set_ylabel("muscle fitness (1 = fresh)")
    axes[1, 0].set_title("fatigue over a 10-minute walk", fontsize=10)
    axes[1, 0].legend(fontsize=8)
    axes[1, 1].axhline(0, color="k", lw=0.8)
    axes[1, 1].set_xlabel("time (min)")
    axes[1, 1].set_ylabel("median MTC per minute (mm)")
    axes[1, 1].set_title("toe clearance", fontsize=10)
    axes[1, 1].legend(fontsize=8)
    fig.tight_layout()
    save(fig, "lesson5_muscle")


if __name__ == "__main__":
    main()
