"""``fes hil``: hardware-in-the-loop runs against a device (or the emulator) on a serial port."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fes_sim.cli.options import SEED, SEED_HELP, Number, check_output_file
from firmware_bridge.protocol.constants import CLOCK_TOLERANCE_PPM, WATCHDOG_RANGE_MS

DESCRIPTION = """\
Runs the reference detector and controller against a device speaking the wire
protocol (docs/protocol.md) on any serial port or pyserial URL, or fesemu://.

  host     host in the loop: the device streams its sensor, the host computes the
           stimulation and sends it back; per-stride table and latency figures
  device   device in the loop: the host streams simulator or recording samples,
           the device runs its own controller; its onsets and offsets must match
           the host's reference model within --tolerance-ms
  latency  time-sync round trips and sample-to-command latency

{exit_status}"""

EXIT_STATUS = """\
Exit status: 0 pass, 1 fail, 2 usage or configuration error, 3 device or link
error, 4 the port vanished (the frame log and recording are complete up to then).
"""

HOST_DESCRIPTION = """\
Host in the loop: the device streams its shank sensor, this host runs the
reference detector and controller on it and sends each stimulation command back.

Prints a table per stride, the latency percentiles (sample-to-command, host
processing, arrival jitter, ping round trip), the scheduling priority obtained,
lost, stale and NAKed samples and the device clock's drift, then one line per
failed or not measurable check and PASS or FAIL. Checks: the link held, no more
lost samples than --max-lost-samples, no NAKs, and the sample-to-command p50 and
p99 within --p50-ms and --p99-ms when given (not measurable, and so failed
under a limit, when the device clock drifts beyond --max-drift-ppm).

{exit_status}"""

DEVICE_DESCRIPTION = """\
Device in the loop: this host streams samples (from the plant simulator, a
recording or a sine of shank tilt) to the device, which runs its own
detector and controller; the host runs the reference model on the same samples.

Prints one row per reference burst (onset and offset on the host and on the
device, their differences), the samples sent, the event counts and the pacing
lag, then one line per failed check and PASS or FAIL. Checks: the link held, no
NAKs, the reference has bursts, each burst's onset and offset within
--tolerance-ms, and no extra device bursts.

{exit_status}"""

LATENCY_DESCRIPTION = """\
Measure the link: --pings time-sync round trips, then a host-in-the-loop run
(10 s by default) timed sample by sample.

Prints the same latency table as 'fes hil host' (sample-to-command, host
processing, arrival jitter, ping round trip), the clock sync and drift, then
one line per failed or not measurable check and PASS or FAIL. Checks: every
ping answered, the link held, no lost samples beyond --max-lost-samples, no
NAKs, and the sample-to-command p50 and p99 within --p50-ms and --p99-ms (a
device clock drifting beyond --max-drift-ppm makes them not measurable: FAIL).

{exit_status}"""


BAUDRATE = Number(int, 1, None, "bit/s")
RATE_HZ = Number(int, 1, 1000, "Hz")
DURATION_S = Number(float, 0, None, "s", lo_open=True)
WATCHDOG_MS = Number(int, *WATCHDOG_RANGE_MS, "ms")
PERCENTILE_MS = Number(float, 0, None, "ms", lo_open=True)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", required=True, help="serial port, pyserial URL or fesemu://?options (see 'fes ports'); required")
    p.add_argument("--baudrate", type=BAUDRATE, default=1_000_000, metavar="BIT/S",
                   help=f"line rate for real UARTs, {BAUDRATE.range} (USB CDC ignores it)")
    p.add_argument("--rate", type=RATE_HZ, default=200, metavar="HZ", help=f"sample rate, {RATE_HZ.range}")
    p.add_argument("--duration-s", type=DURATION_S, default=60.0, metavar="S",
                   help=f"length of the run in samples' time, {DURATION_S.range}")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME", help="controller preset or TOML file")
    p.add_argument("--stimulator", default="default", metavar="NAME",
                   help="stimulator preset or TOML file: safety limits (default: the preset 'default')")
    p.add_argument("--watchdog-ms", type=WATCHDOG_MS, default=250, metavar="MS",
                   help=f"device watchdog time-out to set, {WATCHDOG_MS.range}")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML for a CI server (default: none)")
    p.add_argument("--log", type=Path, metavar="FILE", help="frame log with host timestamps (CSV, written as the run goes) (default: none)")


SAMPLE_TIMEOUT_MS = Number(float, 0, None, "ms", lo_open=True)


MAX_LOST = Number(int, 0, None)


def _max_lost(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-lost-samples", type=MAX_LOST, default=0, metavar="N",
                   help=f"samples the device may skip before the run fails, {MAX_LOST.range} (an emulated board on a "
                        "loaded host stalls now and then)")


def _sample_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample-timeout-ms", type=SAMPLE_TIMEOUT_MS, default=250.0, metavar="MS",
                   help=f"end the run as failed when no sample arrives for this long, {SAMPLE_TIMEOUT_MS.range}")


DRIFT_PPM = Number(float, 0, None, "ppm", lo_open=True)


def _max_drift(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-drift-ppm", type=DRIFT_PPM, default=CLOCK_TOLERANCE_PPM, metavar="PPM",
                   help=f"device clock rate error beyond which sample-to-command latency is not measurable, "
                        f"{DRIFT_PPM.range} (a crystal is within 100 ppm; a device clock that counts "
                        f"late timer interrupts drifts by percent)")


def _realtime(p: argparse.ArgumentParser) -> None:
    p.add_argument("--realtime", action="store_true",
                   help="run the host loop at raised scheduling priority with a frozen garbage collector, as a HIL "
                        "bench does (SCHED_FIFO, else nice -10; needs root or CAP_SYS_NICE, otherwise a logged note "
                        "and normal priority; what was obtained is printed)")


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes hil`` and its modes."""
    p = subparsers.add_parser("hil", help="hardware-in-the-loop runs against a serial device",
                              description=DESCRIPTION.format(exit_status=EXIT_STATUS), formatter_class=formatter_class)
    sub = p.add_subparsers(title="modes", metavar="MODE", required=True)
    h = sub.add_parser("host", help="host in the loop", description=HOST_DESCRIPTION.format(exit_status=EXIT_STATUS),
                       formatter_class=formatter_class)
    _common(h)
    h.add_argument("--record", type=Path, metavar="FILE", help="write the run as a recording (CSV, flushed as it goes) (default: none)")
    h.add_argument("--p50-ms", type=PERCENTILE_MS, default=None, metavar="MS",
                   help=f"fail when sample-to-command p50 exceeds this, {PERCENTILE_MS.range} (default: no limit)")
    h.add_argument("--p99-ms", type=PERCENTILE_MS, default=None, metavar="MS",
                   help=f"fail when sample-to-command p99 exceeds this, {PERCENTILE_MS.range} (default: no limit)")
    _sample_timeout(h)
    _max_lost(h)
    _max_drift(h)
    _realtime(h)
    h.set_defaults(func=run, mode="host")
    d = sub.add_parser("device", help="device in the loop", description=DEVICE_DESCRIPTION.format(exit_status=EXIT_STATUS),
                       formatter_class=formatter_class)
    _common(d)
    d.add_argument("--source", choices=("plant", "recording", "synthetic"), default="plant", help="samples to stream")
    d.add_argument("--walker", default="drop_foot_mild", metavar="NAME", help="walker preset or file (source plant)")
    d.add_argument("--recording", default="", metavar="FILE", help="recording file (source recording) (default: none)")
    d.add_argument("--seed", type=SEED, default=0, metavar="N", help=SEED_HELP)
    d.add_argument("--tolerance-ms", type=Number(float, 0, None, "ms"), default=None, metavar="MS",
                   help="onset/offset tolerance, value >= 0 ms (default: one sample period, 1000/--rate)")
    d.set_defaults(func=run, mode="device")
    lat = sub.add_parser("latency", help="round-trip and command-latency statistics",
                         description=LATENCY_DESCRIPTION.format(exit_status=EXIT_STATUS), formatter_class=formatter_class)
    _common(lat)
    lat.set_defaults(duration_s=10.0)
    lat.add_argument("--pings", type=Number(int, 1), default=200, metavar="N", help="time-sync round trips to measure, value >= 1")
    lat.add_argument("--p50-ms", type=PERCENTILE_MS, default=1.0, metavar="MS",
                     help=f"fail when sample-to-command p50 exceeds this, {PERCENTILE_MS.range}")
    lat.add_argument("--p99-ms", type=PERCENTILE_MS, default=3.0, metavar="MS",
                     help=f"fail when sample-to-command p99 exceeds this, {PERCENTILE_MS.range}")
    _sample_timeout(lat)
    _max_lost(lat)
    _max_drift(lat)
    _realtime(lat)
    lat.set_defaults(func=run, mode="latency")


def run(args: argparse.Namespace) -> int:
    """Run one HIL mode; prints tables and a verdict, returns the exit status."""
    from fes_sim.cli.table import format_table
    from fes_sim.config import resolve
    from firmware_bridge.hil import Check, Percentiles, write_junit
    from firmware_bridge.link import open_link

    for option in ("junit", "log", "record"):
        check_output_file(getattr(args, option, None), f"--{option}")
    controller = resolve("controller", args.controller)
    stimulator = resolve("stimulator", args.stimulator)
    link = open_link(args.port, baudrate=args.baudrate, frame_log=args.log)
    with link:
        print(f"device {link.device.device_id:#010x} firmware {link.device.firmware_version:#06x} "
              f"protocol v{link.device.protocol_version} on {args.port}")
        if args.mode == "device":
            checks, error = _device(args, link, controller, stimulator, format_table)
        else:
            checks, error = _host(args, link, controller, stimulator, format_table, Check, Percentiles)
    if args.junit:
        write_junit(args.junit, f"fes hil {args.mode}", checks, {"port": args.port, "rate_hz": str(args.rate)})
    failed = [c for c in checks if c.failed]
    for c in checks:
        if c.failed or c.skipped:
            print(f"{'FAIL' if c.failed else 'NOT MEASURABLE'} {c.name}: {c.message}")
    passed = sum(c.passed for c in checks)
    skipped = f", {len(checks) - passed - len(failed)} not measurable" if len(checks) - passed - len(failed) else ""
    print(f"{'PASS' if not failed else 'FAIL'}: {passed} of {len(checks)} checks passed{skipped}")
    if error is not None and getattr(error, "exit_code", None):
        print(f"fes: error: {error}")
        return int(error.exit_code)
    return 1 if failed else 0


def _host(args, link, controller, stimulator, format_table, Check, Percentiles):  # type: ignore[no-untyped-def]
    from fes_sim.recording import RecordingWriter
    from firmware_bridge.hil import STRIDE_HEADERS, run_host_loop, sync_clock

    pings = None
    if args.mode == "latency":
        pings = sync_clock(link, args.pings, gap_s=0.001)
    recorder = None
    if getattr(args, "record", None):
        recorder = RecordingWriter(args.record, {"sample_rate_hz": args.rate, "controller": args.controller,
                                                 "source": f"hil host {args.port}"}, with_truth=False)
    try:
        result = run_host_loop(link, controller, stimulator, args.rate, args.duration_s,
                               watchdog_ms=args.watchdog_ms, recorder=recorder, realtime=args.realtime,
                               sample_timeout_s=args.sample_timeout_ms * 1e-3, max_drift_ppm=args.max_drift_ppm)
    finally:
        if recorder is not None:
            recorder.close()
    if result.strides:
        print(format_table(STRIDE_HEADERS, [s.values() for s in result.strides], (0, 3, 3, 0, 0, 3, 3)))
    sync = pings or result.clock
    rows = [result.sample_to_command.row("sample-to-command"), result.host_latency.row("host processing"),
            result.arrival_jitter.row("arrival jitter"),
            (sync.round_trip if sync else Percentiles.of([])).row("round trip (ping)")]
    print(format_table(("latency", "n", "p50_ms", "p95_ms", "p99_ms", "max_ms"), rows, (0, 0, 3, 3, 3, 3)))
    fit = result.clock_fit
    if result.latency_unmeasurable:
        print(f"sample-to-command: not measurable: {result.latency_unmeasurable}")
    elif fit is not None:
        print(f"sample-to-command: host processing + transit; fastest transit {fit.min_transit_s * 1e3:.3f} "
              f"± {fit.min_transit_uncertainty_s * 1e3:.3f} ms (from the pings)")
    print(f"priority: {result.priority}")
    print(f"samples {result.samples}, lost {result.lost_samples}, duplicated or reordered (dropped) "
          f"{result.stale_samples}, NAKs {len(result.naks)}, link retries {link.stats.retries}, "
          f"rx errors {link.stats.decoder.errors}")
    if result.clock is not None:
        drift = f", device clock drift {fit.drift_ppm:.1f} ppm (limit ±{args.max_drift_ppm:g})" if fit else ""
        print(f"clock sync: {len(result.clock.bursts)} bursts, {result.clock.lost} pings lost{drift}")
    checks = result.checks(args.p50_ms, args.p99_ms, args.max_lost_samples)
    if pings is not None:
        checks.append(Check("ping", pings.round_trip.n == args.pings, f"{pings.round_trip.n} of {args.pings} pings answered"))
    return checks, result.error


def _device(args, link, controller, stimulator, format_table):  # type: ignore[no-untyped-def]
    from firmware_bridge.emulator.config import config_from_options
    from firmware_bridge.emulator.device import make_source
    from firmware_bridge.hil import BURST_HEADERS, run_device_loop

    options = {"source": args.source, "walker": args.walker, "recording": args.recording, "seed": str(args.seed)}
    source = make_source(config_from_options(options, source="fes hil device"), args.rate)
    tolerance = args.tolerance_ms if args.tolerance_ms is not None else 1000.0 / args.rate
    result = run_device_loop(link, controller, stimulator, source, args.rate, args.duration_s,
                             tolerance_ms=tolerance, watchdog_ms=args.watchdog_ms)
    print(format_table(BURST_HEADERS, [b.values(args.rate) for b in result.bursts], (0, 3, 3, 1, 3, 3, 1, 0)))
    print(f"samples sent {result.samples_sent}, events reference {result.ref_events} / device {result.device_events}, "
          f"pacing lag max {result.max_lag_s * 1e3:.1f} ms, NAKs {len(result.naks)}")
    return result.checks(), result.error
