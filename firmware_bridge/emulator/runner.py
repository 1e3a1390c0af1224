"""Serves a :class:`DeviceLogic` on a transport from one thread, with wire timing and faults."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from typing import Callable, Protocol

import numpy as np

from firmware_bridge.emulator.config import EmulatorConfig
from firmware_bridge.emulator.device import DeviceLogic
from firmware_bridge.emulator.faults import FaultInjector
from firmware_bridge.emulator.transport import PipeTransport, PtyTransport, TransportClosed

log = logging.getLogger(__name__)

_IDLE_WAIT_S = 0.05
_BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop


class Transport(Protocol):
    def read(self, timeout_s: float) -> bytes: ...
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class Emulator:
    """An emulated stimulator served on ``transport`` by a background thread.

    Bytes in both directions pass through fault injection (one seeded
    generator per direction) and, when ``config.baudrate`` is set, are delayed
    as a serial line of that rate would (10 bits per byte, one byte at a time).

    Parameters
    ----------
    config
        The emulated device.
    transport
        Where the host is: :class:`PtyTransport` or :class:`PipeTransport`.
    clock
        Monotonic seconds; also the device clock.
    on_apply
        Passed to :class:`DeviceLogic` (observer of applied host frames).
    """

    def __init__(
        self,
        config: EmulatorConfig,
        transport: Transport,
        clock: Callable[[], float] = time.monotonic,
        on_apply: Callable[[float, object], None] | None = None,
    ) -> None:
        self.config = config
        self.transport = transport
        self.clock = clock
        self.device = DeviceLogic(config, self._outgoing, on_apply, t0_s=clock(), clock=clock)
        seeds = np.random.SeedSequence(config.seed).spawn(2)
        self.faults_in = FaultInjector(config.faults, np.random.default_rng(seeds[0]))
        self.faults_out = FaultInjector(config.faults, np.random.default_rng(seeds[1]))
        self._queue: list[tuple[float, int, bool, bytes]] = []  # due, order, to_device, data
        self._order = 0
        self._line_free = {True: 0.0, False: 0.0}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="fes-emulator", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> "Emulator":
        """Start serving; returns self."""
        self._started_s = self.clock()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the transport (the host sees the port vanish)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.transport.close()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the emulator stops; True if it did."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        """True while the serving thread is alive."""
        return self._thread.is_alive()

    # ------------------------------------------------------------------ internals

    def _schedule(self, now_s: float, to_device: bool, data: bytes, injector: FaultInjector) -> None:
        for delay_s, chunk in injector.apply(data):
            due = now_s + delay_s
            if self.config.baudrate:
                due = max(due, self._line_free[to_device]) + len(chunk) * _BITS_PER_BYTE / self.config.baudrate
                self._line_free[to_device] = due
            self._order += 1
            heapq.heappush(self._queue, (due, self._order, to_device, chunk))

    def _outgoing(self, frame: bytes) -> None:
        """DeviceLogic.emit: a frame for the host."""
        now = self.clock()
        if not self.config.baudrate and not self.config.faults.active:
            self.transport.write(frame)
            return
        self._schedule(now, False, frame, self.faults_out)

    def _run(self) -> None:
        dev = self.device
        disconnect_s = self.config.faults.disconnect_after_s
        try:
            while not self._stop.is_set():
                now = self.clock()
                if disconnect_s and now - self._started_s >= disconnect_s:
                    log.info("emulator: injected disconnect after %.3f s", disconnect_s)
                    break
                wake = min(dev.next_deadline(now), now + _IDLE_WAIT_S)
                if self._queue:
                    wake = min(wake, self._queue[0][0])
                data = self.transport.read(wake - now)
                now = self.clock()
                if data:
                    if self.config.baudrate or self.config.faults.active:
                        self._schedule(now, True, data, self.faults_in)
                    else:
                        dev.receive(data, now)
                while self._queue and self._queue[0][0] <= now:
                    _, _, to_device, chunk = heapq.heappop(self._queue)
                    if to_device:
                        dev.receive(chunk, now)
                    else:
                        self.transport.write(chunk)
                dev.tick(now)
        except TransportClosed:
            log.info("emulator: transport closed")
        except BaseException as exc:  # keep the error for the owner, then vanish like a crashed device
            log.exception("emulator crashed")
            self.error = exc
        finally:
            self.transport.close()


def serve_pty(config: EmulatorConfig, **kwargs: object) -> tuple[Emulator, str]:
    """Start an emulator on a new pseudo-terminal; returns it and the device path to open."""
    transport = PtyTransport()
    return Emulator(config, transport, **kwargs).start(), transport.device_path  # type: ignore[arg-type]


def serve_pipe(config: EmulatorConfig, **kwargs: object) -> tuple[Emulator, PipeTransport]:
    """Start an emulator on in-process pipes; returns it and the transport the host side uses."""
    transport = PipeTransport()
    return Emulator(config, transport, **kwargs).start(), transport  # type: ignore[arg-type]
