#!/usr/bin/env python3
"""Firmware figures: flash/RAM footprint, sustained sample rates and pty round-trip latency.

Runs the reference firmware in QEMU (mps2-an385) and prints medians:

* footprint from ``arm-none-eabi-size`` (flash = text + data, RAM = data + bss incl. stack);
* host-in-the-loop: SENSOR_SAMPLE streamed at each rate for ``--seconds``; lost samples
  from ``sample_index`` gaps, and the rate per second of the device's own clock and of
  the host's (the two agree: the timebase reads a free-running hardware counter);
* round trip TIME_PING -> TIME_PONG over the pty, p50 and p99.

Usage: ``python tools/bench_firmware.py [--seconds 10] [--pings 2000]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from firmware_client import FirmwareClient  # noqa: E402

from firmware_bridge.firmware import FirmwareQemu, build_firmware  # noqa: E402
from firmware_bridge.protocol import messages as M  # noqa: E402
from firmware_bridge.protocol.constants import Mode  # noqa: E402


def footprint(elf: Path) -> tuple[int, int]:
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(x) for x in out.splitlines()[1].split()[:3])
    return text + data, data + bss


def stream(c: FirmwareClient, rate_hz: int, seconds: float) -> tuple[int, int, float, float]:
    """HOST_LOOP at ``rate_hz`` for ``seconds`` of host time: samples received, lost (index gaps),
    the device-clock span they cover (s) and the host time span of their arrival (s)."""
    c.request(M.SetConfig(30.0, 250.0, 40.0, 80, 80, 100, 0), M.Ack)
    start = len(c.frames)
    c.request(M.SetMode(rate_hz, Mode.HOST_LOOP), M.Ack)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c.send(M.Heartbeat(0))
        time.sleep(0.05)
    c.request(M.SetMode(rate_hz, Mode.COMMAND), M.Ack)
    got = [(t, m) for t, m in c.frames[start:] if isinstance(m, M.SensorSample)]
    if len(got) < 2:
        return len(got), 0, 0.0, 0.0
    idx = [m.sample_index for _, m in got]
    device_s = ((got[-1][1].t_us - got[0][1].t_us) & 0xFFFFFFFF) * 1e-6
    return len(idx), idx[-1] - idx[0] + 1 - len(idx), device_s, got[-1][0] - got[0][0]


def round_trips(c: FirmwareClient, n: int) -> np.ndarray:
    rtt = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.request(M.TimePing(int(t0 * 1e6)), M.TimePong)
        rtt.append(time.perf_counter() - t0)
    return np.array(rtt) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="streaming time per rate")
    parser.add_argument("--pings", type=int, default=2000, help="round trips to time")
    args = parser.parse_args()
    elf = build_firmware()
    flash, ram = footprint(elf)
    print(f"footprint: flash {flash} B, RAM {ram} B (arm-none-eabi-size {elf.name})")
    with FirmwareQemu.start(elf) as fw:
        c = FirmwareClient(fw.port)
        c.request(M.HelloRequest(1), M.Hello, timeout_s=5.0)
        for rate in (100, 200, 500, 1000):
            got, lost, device_s, host_s = stream(c, rate, args.seconds)
            print(f"host loop {rate:5d} Hz: {got} samples, lost {lost}; {got / max(device_s, 1e-9):.0f}/s of device "
                  f"time, {got / max(host_s, 1e-9):.0f}/s of host time (device clock at "
                  f"{100 * device_s / max(host_s, 1e-9):.0f} % of real time)")  # fmt: skip
        rtt = round_trips(c, args.pings)
        print(f"round trip TIME_PING->TIME_PONG over pty: p50 {np.percentile(rtt, 50):.3f} ms, "
              f"p99 {np.percentile(rtt, 99):.3f} ms, max {rtt.max():.3f} ms (n={len(rtt)})")  # fmt: skip
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
