"""Lesson 6: safety. Charge, current density, the enforced limits, sensor and link loss.

Part 1 computes charge per phase and rms current density for a few settings and
asks the device to accept each (it refuses unsafe ones before anything runs).
Part 2 walks the mild foot-drop walker with the default controller and, in two
separate runs, loses the sensor (every channel reads nan for 1 s) and loses the
link (no sample reaches the controller for 0.3 s), both in the middle of a
stimulation burst, and measures how fast the output reaches zero.

    python examples/lesson6_safety.py [OUTPUT_DIR]
"""

from __future__ import annotations

import math

import numpy as np

from _course import answer, plt, save
from fes_sim.config import resolve
from fes_sim.control.limits import rms_current_ma
from fes_sim.device import DevicePipeline
from fes_sim.errors import SafetyLimitError
from fes_sim.loop import ClosedLoop
from fes_sim.plant import WalkingPlant
from fes_sim.sensors.imu import SensorConfig, SensorFault

SEED = 1
WALKER = "drop_foot_mild"
FAULT_AT_S = 8.0  # nominal fault time; moved to the middle of the burst running then
_PRESET = resolve("controller", "walkaide_tilt").stimulation  # the default controller: 35 mA, 250 us, 40 Hz
SETTINGS = {  # name -> (current_ma, pulse_width_us, frequency_hz)
    "default": (_PRESET.current_ma, _PRESET.pulse_width_us, _PRESET.frequency_hz),
    "strong": (60.0, 300.0, 40.0),
    "at_the_limits": (100.0, 350.0, 40.0),
    "too_strong": (120.0, 300.0, 40.0),
    "too_fast": (_PRESET.current_ma, _PRESET.pulse_width_us, 80.0),  # the default at twice the rate
}


def limits_demo() -> dict[str, str]:
    """Charge, density and the device's verdict for each setting."""
    stim = resolve("stimulator", "default")
    base = resolve("controller", "walkaide_tilt")
    verdicts = {}
    for name, (current, width, rate) in SETTINGS.items():
        charge_uc = current * width * 1e-3
        density = rms_current_ma(current, width, rate) / stim.electrode_area_cm2
        answer(f"{name}_charge_uc", charge_uc, "uC per phase", ".2f")
        answer(f"{name}_density_ma_cm2", density, "mA/cm2 rms", ".2f")
        ctrl = base.replace(stimulation=base.stimulation.replace(current_ma=current, pulse_width_us=width, frequency_hz=rate))
        try:
            DevicePipeline(ctrl, stim)
            verdicts[name] = "accepted"
        except SafetyLimitError as err:
            verdicts[name] = "refused"
            print(f"{name}: {err}")
        print(f"{name}: {verdicts[name]}")
    return verdicts


def burst_middle(t_target: float) -> float:
    """The middle of the first burst after ``t_target`` in a fault-free run (same seed)."""
    plant = WalkingPlant(resolve("walker", WALKER))
    trace = ClosedLoop(plant, DevicePipeline(resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"))).run(
        t_target + 3.0, SEED
    )
    on, off = next(iv for iv in trace.stim_intervals() if iv[0] >= t_target)
    return round((on + off) / 2, 2)


def sensor_loss(t_fault: float, after_s: float = 4.0) -> dict[str, np.ndarray]:
    """Every sensor channel reads nan for 1 s from ``t_fault``."""
    fault = SensorFault(kind="dropout", start_s=t_fault, duration_s=1.0)
    plant = WalkingPlant(resolve("walker", WALKER), sensor=SensorConfig(faults=(fault,)))
    pipeline = DevicePipeline(resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"))
    trace = ClosedLoop(plant, pipeline).run(t_fault + after_s, SEED)
    return trace.arrays()


def link_loss(t_fault: float, gap_s: float = 0.3, after_s: float = 4.0) -> dict[str, np.ndarray]:
    """No sample reaches the controller for ``gap_s``; the stimulator holds its last command meanwhile."""
    plant = WalkingPlant(resolve("walker", WALKER))
    pipeline = DevicePipeline(resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"))
    sample = plant.reset(SEED)
    out = pipeline.update(sample)
    rows = []
    for _ in range(int((t_fault + after_s) * plant.sample_rate_hz)):
        sample = plant.step(out.current_ma, out.pulse_width_us, out.frequency_hz)
        if not t_fault <= sample.t_s < t_fault + gap_s:  # samples lost on the link never arrive
            out = pipeline.update(sample)
        rows.append((sample.t_s, out.envelope, out.current_ma))
    t, env, cur = np.array(rows).T
    return {"t_s": t, "envelope": env, "current_ma": cur}


def zero_after(tr: dict[str, np.ndarray], t_fault: float) -> float:
    """Milliseconds from ``t_fault`` until the envelope is zero."""
    t, env = tr["t_s"], tr["envelope"]
    k = np.flatnonzero((t >= t_fault) & (env <= 0.0))
    return (t[k[0]] - t_fault) * 1000.0 if k.size else math.nan


def main() -> None:
    verdicts = limits_demo()
    t_fault = burst_middle(FAULT_AT_S)
    print(f"faults start at t = {t_fault:.2f} s, in the middle of a burst")
    sensor = sensor_loss(t_fault)
    link = link_loss(t_fault)
    answer("sensor_loss_to_zero_ms", zero_after(sensor, t_fault), "ms", ".0f")
    back = sensor["t_s"][(sensor["t_s"] > t_fault + 1.0) & (sensor["envelope"] > 0)]
    answer("sensor_back_to_stim_s", back[0] - (t_fault + 1.0) if back.size else math.nan, "s after the sensor returned", ".2f")
    # link loss: the first sample after the gap carries the time jump the monitor sees
    first_after = link["t_s"][link["t_s"] >= t_fault + 0.3][0]
    answer("link_loss_to_zero_ms", zero_after(link, first_after), "ms after the link returned", ".0f")

    fig, axes = plt.subplots(3, 1, figsize=(9, 8))
    ax = axes[0]
    names = list(SETTINGS)
    stim = resolve("stimulator", "default")
    dens = [rms_current_ma(*SETTINGS[n]) / stim.electrode_area_cm2 for n in names]
    charge = [SETTINGS[n][0] * SETTINGS[n][1] * 1e-3 for n in names]
    x = np.arange(len(names))
    ax.bar(x - 0.2, charge, 0.4, color="tab:purple", label="charge per phase (uC)")
    ax.axhline(stim.max_charge_per_phase_uc, color="tab:purple", ls="--", lw=1, label=f"charge limit {stim.max_charge_per_phase_uc:g} uC")
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, dens, 0.4, color="tab:olive", label="rms current density (mA/cm2)")
    ax2.axhline(2.0, color="tab:olive", ls=":", lw=1, label="2 mA/cm2: IEC 60601-2-10 attention")
    ax2.set_ylabel("mA/cm2 rms")
    ax.set_ylim(0, 55)
    ax2.set_ylim(0, 3.0)
    ax.set_ylabel("uC per phase")
    ax.set_xticks(x, [f"{n}\n{SETTINGS[n][0]:g} mA, {SETTINGS[n][1]:g} us, {SETTINGS[n][2]:g} Hz\n{verdicts[n]}" for n in names], fontsize=8)
    ax.legend(loc="upper left", fontsize=7)
    ax2.legend(loc="upper center", fontsize=7)
    ax.set_title("settings against the default stimulator's limits", fontsize=10)
    for ax, tr, title, span in (
        (axes[1], sensor, "sensor loss: every channel nan for 1 s", 1.0),
        (axes[2], link, "link loss: no sample reaches the controller for 0.3 s", 0.3),
    ):
        show = (tr["t_s"] > t_fault - 1.5) & (tr["t_s"] < t_fault + 3.0)
        ax.plot(tr["t_s"][show], tr["current_ma"][show], color="tab:blue", lw=1.2)
        ax.axvspan(t_fault, t_fault + span, color="tab:red", alpha=0.2, lw=0)
        ax.set_ylabel("current (mA)")
        ax.set_title(title, fontsize=10)
    axes[2].set_xlabel("time (s); red = fault")
    fig.tight_layout()
    save(fig, "lesson6_safety")


if __name__ == "__main__":
    main()
