"""Hardware-in-the-loop runners: host in the loop, device in the loop, latency; JUnit output."""

from firmware_bridge.hil.device_loop import BURST_HEADERS, BurstRow, DeviceLoopResult, compare, run_device_loop
from firmware_bridge.hil.host_loop import STRIDE_HEADERS, HostLoopResult, StrideRow, run_host_loop
from firmware_bridge.hil.junit import Check, write_junit
from firmware_bridge.hil.setup import prepare_device, wire_controller
from firmware_bridge.hil.timing import ClockSync, Percentiles, jitter, sync_clock

__all__ = [
    "BURST_HEADERS", "BurstRow", "Check", "ClockSync", "DeviceLoopResult", "HostLoopResult", "Percentiles",
    "STRIDE_HEADERS", "StrideRow", "compare", "jitter", "prepare_device", "run_device_loop", "run_host_loop",
    "sync_clock", "wire_controller", "write_junit",
]
