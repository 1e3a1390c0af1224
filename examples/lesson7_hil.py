"""Lesson 7: hardware in the loop. The emulated stimulator on a serial port, a streamed walk, a fault.

Part 1 serves the emulated device on a pseudo-terminal (a real serial device
path, as a USB stimulator would have) with the walking simulator as its sensor,
and runs host in the loop for 8 s: the device streams its shank samples, the
host runs the detector and controller and sends back the envelope, and the
timing report says how long that took. Part 2 does the same with a host that
hangs in the middle of a burst and sends nothing more, not even heartbeats; the
device's watchdog switches the output off on its own. The time it took is read
from the device's own timestamps.

    python examples/lesson7_hil.py [OUTPUT_DIR]
"""

from __future__ import annotations

import threading

import numpy as np

from _course import answer, plt, save
from fes_sim.config import resolve
from fes_sim.device import DevicePipeline
from fes_sim.samples import ShankSample
from firmware_bridge.emulator import EmulatorConfig, serve_pty
from firmware_bridge.hil import prepare_device, run_host_loop, wire_controller
from firmware_bridge.link.fes_link import FesLink, Received
from firmware_bridge.protocol import Fault, FaultReport, Mode, SensorSample, StimStateReport
from firmware_bridge.samples import Unwrapper, fill_shank_sample

SEED = 1
WALKER = "drop_foot_mild"
RATE_HZ = 200
#: the emulator builds its walking simulator when it gets SET_MODE, which can take longer
#: than the link's default 100 ms answer time on a busy machine
REQUEST_TIMEOUT_S = 2.0
WALK_S = 8.0
WATCHDOG_MS = 250
HANG_AFTER_S = 3.0  # the host hangs at the first full-envelope sample after this (device time from the stream start)
AFTER_HANG_S = 1.0  # keep listening this long after the host fell silent


def host_loop(controller, stimulator):  # type: ignore[no-untyped-def]
    """Part 1: ``fes hil host`` in Python. Returns the HostLoopResult."""
    emulator, port = serve_pty(EmulatorConfig(source="plant", walker=WALKER, seed=SEED))
    print(f"emulator on {port}")
    try:
        with FesLink.open(port, request_timeout_s=REQUEST_TIMEOUT_S) as link:
            return run_host_loop(link, controller, stimulator, RATE_HZ, WALK_S, watchdog_ms=WATCHDOG_MS)
    finally:
        emulator.stop()


class HangingHost:
    """A host loop that stops sending anything in the middle of a burst, and records what the device reports."""

    def __init__(self, link: FesLink, pipeline: DevicePipeline) -> None:
        self.link, self.pipeline = link, pipeline
        self.unwrap = Unwrapper()
        self.sample = ShankSample(0.0)
        self.sample_t_us: dict[int, int] = {}
        self.rows: list[tuple[float, float]] = []  # device time (s), commanded envelope (nan once silent)
        self.reports: list[StimStateReport] = []
        self.faults: list[FaultReport] = []
        self.last_command_index: int | None = None
        self.silent = False
        self.t0_us: int | None = None
        self.done = threading.Event()

    def __call__(self, item: Received) -> bool:
        msg = item.message
        if isinstance(msg, StimStateReport):
            self.reports.append(msg)
        elif isinstance(msg, FaultReport):
            self.faults.append(msg)
        elif isinstance(msg, SensorSample):
            self._sample(msg)
        else:
            return False
        return True

    def _sample(self, msg: SensorSample) -> None:
        t_us = msg.t_us  # the emulator's clock starts at 0 and wraps only after 71 minutes
        self.t0_us = t_us if self.t0_us is None else self.t0_us
        t_s = (t_us - self.t0_us) * 1e-6
        self.sample_t_us[msg.sample_index] = t_us
        if self.silent:
            self.rows.append((t_s, np.nan))
            if t_s > self.hang_t_s + AFTER_HANG_S:
                self.done.set()
            return
        out = self.pipeline.update(fill_shank_sample(msg, self.unwrap(t_us), self.sample))
        self.link.set_envelope(out.envelope, msg.sample_index)
        self.last_command_index = msg.sample_index
        self.rows.append((t_s, out.envelope))
        if t_s >= HANG_AFTER_S and out.envelope >= 1.0:
            self.silent, self.hang_t_s = True, t_s  # the host hangs: no command, no heartbeat from now on


def hanging_host(controller, stimulator) -> HangingHost:  # type: ignore[no-untyped-def]
    """Part 2: stream a walk, hang mid-burst, and let the watchdog act."""
    emulator, port = serve_pty(EmulatorConfig(source="plant", walker=WALKER, seed=SEED))
    try:
        with FesLink.open(port, heartbeat_ms=0, request_timeout_s=REQUEST_TIMEOUT_S) as link:  # no heartbeat thread: a hung host is silent
            controller = wire_controller(controller)
            prepare_device(link, controller, stimulator, WATCHDOG_MS)
            host = HangingHost(link, DevicePipeline(controller, stimulator, float(RATE_HZ)))
            link.add_listener(host)
            link.set_mode(Mode.HOST_LOOP, RATE_HZ)
            if not host.done.wait(HANG_AFTER_S + AFTER_HANG_S + 20.0):
                raise RuntimeError("the walk never reached a full burst after the hang time")
            link.remove_listener(host)
            return host
    finally:
        emulator.stop()


def main() -> None:
    controller = resolve("controller", "walkaide_tilt")
    stimulator = resolve("stimulator", "default")

    result = host_loop(controller, stimulator)
    if result.error is not None:
        raise SystemExit(f"host loop failed: {result.error}")
    stc, host_lat, jit = result.sample_to_command, result.host_latency, result.arrival_jitter
    for name, p in (("sample-to-command", stc), ("host", host_lat), ("arrival jitter", jit)):
        print(f"timing {name}: p50 {p.p50_s * 1e3:.3f} ms, p95 {p.p95_s * 1e3:.3f} ms, "
              f"p99 {p.p99_s * 1e3:.3f} ms, max {p.max_s * 1e3:.3f} ms (n {p.n})")
    fit = result.clock_fit
    drift = f"{fit.drift_ppm:.1f} ppm" if fit is not None else "not fitted"
    print(f"device clock drift {drift}, priority {result.priority}")
    answer("host_samples", result.samples, "samples", ".0f")
    answer("host_lost_samples", result.lost_samples, "samples", ".0f")
    answer("host_naks", len(result.naks), "NAKs", ".0f")
    print(f"host detected {len(result.strides)} strides, heel strike to heel strike")
    for s in result.strides:
        print(f"stride {s.index}: {s.duration_s:.3f} s, {s.samples} samples, stimulated {s.stim_ms:.0f} ms, "
              f"latency p50 {s.latency_p50_ms:.3f} ms, max {s.latency_max_ms:.3f} ms")

    host = hanging_host(controller, stimulator)
    t_last_us = host.sample_t_us[host.last_command_index]
    raised = [f for f in host.faults if f.code == int(Fault.WATCHDOG) and f.active]
    watchdog = [f for f in raised if f.t_us >= t_last_us]
    # a busy machine can stall the host (no heartbeat here) past the time-out before the hang, too
    print(f"WATCHDOG faults before the hang: {len(raised) - len(watchdog)}")
    answer("watchdog_faults_after_hang", len(watchdog), "WATCHDOG faults raised", ".0f")
    t_fault_us = watchdog[0].t_us if watchdog else np.nan
    answer("watchdog_off_ms", (t_fault_us - t_last_us) * 1e-3, "ms from the last commanded sample to output off (device clock)", ".0f")
    after = [r for r in host.reports if watchdog and r.t_us >= t_fault_us]
    answer("current_after_watchdog_ma", max((r.current_ma for r in after), default=np.nan), "mA", ".1f")
    on_before = [r for r in host.reports if r.t_us < t_fault_us and r.current_ma > 0]
    print(f"device STIM_STATE reports: {len(on_before)} with output on before the fault, {len(after)} after it")

    fig, axes = plt.subplots(2, 1, figsize=(9, 7.5))
    ax = axes[0]
    names = ("p50", "p95", "p99", "max")
    x = np.arange(len(names))
    for k, (label, p) in enumerate((("sample to command", stc), ("host only", host_lat), ("arrival jitter", jit))):
        values = np.array([p.p50_s, p.p95_s, p.p99_s, p.max_s]) * 1e3
        ax.bar(x + (k - 1) * 0.27, values, 0.27, label=label)
    ax.set_xticks(x, names)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.legend(fontsize=8)
    ax.set_title(f"part 1: host in the loop on a pty, {WALK_S:.0f} s of {WALKER}, {result.samples} samples "
                 f"(this machine, this run)", fontsize=10)
    ax = axes[1]
    t, env = np.array(host.rows).T
    t_rel = t - host.hang_t_s
    ax.plot(t_rel, env, color="tab:blue", lw=1.2, label="envelope the host commanded")
    t_fault = (t_fault_us - host.t0_us) * 1e-6 - host.hang_t_s
    t_last = (t_last_us - host.t0_us) * 1e-6 - host.hang_t_s
    dev = sorted((r.t_us, r.envelope) for r in host.reports)
    td = np.array([(u - host.t0_us) * 1e-6 - host.hang_t_s for u, _ in dev])
    ax.step(td, [float(e > 0) for _, e in dev], where="post", color="k", lw=1, ls="--",
            label="device output on / off (its STIM_STATE reports)")
    ax.axvspan(t_last, t_fault, color="tab:red", alpha=0.2, lw=0, label=f"watchdog time-out ({WATCHDOG_MS} ms)")
    ax.set_xlim(-1.5, AFTER_HANG_S)
    ax.set_ylim(-0.05, 1.15)
    ax.set_xlabel("device time from the hang (s)")
    ax.set_ylabel("envelope")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("part 2: the host hangs in a burst; the device's watchdog turns the output off", fontsize=10)
    fig.tight_layout()
    save(fig, "lesson7_hil")


if __name__ == "__main__":
    main()
