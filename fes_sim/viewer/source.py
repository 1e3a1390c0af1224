"""Base class of the viewer's data sources: one thread per source, paced to the wall clock.

A source produces one sample at a time in :meth:`Source._advance` (simulation,
recording or device link) and the base class does everything else once:
the thread, pacing at ``speed`` × real time, pause, resume and single-step,
batching rows into the :class:`~fes_sim.viewer.buffer.ViewerBuffer`, and
running functions submitted by the GUI thread (retuning) between two samples,
so the objects being stepped are only ever touched by the source thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Sequence

from fes_sim.config.schema import Config
from fes_sim.errors import FesError
from fes_sim.samples import GaitEvent
from fes_sim.viewer.buffer import Status, StrideMark, ViewerBuffer

log = logging.getLogger(__name__)

#: longest stretch of samples produced between two pushes to the buffer (s of data)
MAX_BATCH_S = 0.25
#: "step one stride" gives up after this much signal without a stride ending (standing, or no heel strikes)
MAX_STRIDE_STEP_S = 5.0


class Source:
    """A sample producer on its own thread.

    Parameters
    ----------
    buffer
        Where samples and events go.
    sample_rate_hz
        Nominal sample rate, for pacing.
    speed
        Playback speed factor (1 = real time). ``paced=False`` sources (a device
        link) ignore it: the device sets the pace.
    clock
        Monotonic wall clock in seconds (injectable for tests).
    """

    #: a device link paces itself; simulation and replay are paced by the wall clock
    paced: bool = True
    #: single-step makes sense only when the source can hold still
    can_step: bool = True
    #: label shown in the status line
    label: str = "source"

    def __init__(
        self,
        buffer: ViewerBuffer,
        sample_rate_hz: float,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed {speed!r} must be > 0")
        self.buffer = buffer
        self.sample_rate_hz = sample_rate_hz
        self.speed = speed
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._wake = threading.Event()
        self._steps_requested = 0
        self._stride_steps_requested = 0
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._out_rows: list[list[float]] = []
        self._out_detected: list[tuple[float, GaitEvent]] = []
        self._out_truth: list[tuple[float, GaitEvent]] = []
        self._out_strides: list[StrideMark] = []
        self.status = Status(source=self.label)
        self._pushed_status: Status | None = None
        self.finished = False
        self.error: BaseException | None = None

    # ----------------------------------------------------------- backend hooks
    def _open(self) -> None:
        """Prepare to produce samples (called on the source thread)."""

    def _advance(self) -> bool:
        """Produce one sample through :meth:`emit`; return False when the source has ended."""
        raise NotImplementedError

    def _close(self) -> None:
        """Release what :meth:`_open` acquired (on the source thread; by :meth:`stop` if it never started)."""

    def _retune(self, kind: str, config: Config) -> None:
        """Swap in a new ``controller`` or ``walker`` config (called on the source thread)."""
        log.warning("%s source cannot be retuned; %s settings ignored", self.label, kind)

    # ------------------------------------------------------------ for backends
    def emit(
        self,
        row: list[float],
        detected: GaitEvent = GaitEvent.NONE,
        t_event_s: float = 0.0,
    ) -> None:
        """Queue one sample row and, if any, the event the device detected at it."""
        self._out_rows.append(row)
        if detected:
            self._out_detected.append((t_event_s, GaitEvent(detected)))

    def emit_truth(self, events: Sequence[tuple[float, GaitEvent]], strides: Sequence[StrideMark] = ()) -> None:
        """Queue ground-truth events and finished strides."""
        self._out_truth.extend(events)
        self._out_strides.extend(strides)

    # ------------------------------------------------------------- public API
    def start(self) -> None:
        """Start the source thread (once)."""
        if self._thread is not None:
            raise RuntimeError("source already started")
        self._thread = threading.Thread(target=self._run, name=f"fes-viewer-{self.label}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the thread and wait for it; safe to call twice."""
        self._stop.set()
        self._running.set()
        self._wake.set()
        if self._thread is None:  # never started: release what was opened ahead (a device link)
            self._close()
            return
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("%s source thread did not stop within %.1f s", self.label, timeout_s)

    @property
    def paused(self) -> bool:
        """True while paused."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Hold still (a paced source stops producing; a device link keeps reading but stops showing)."""
        self._running.clear()

    def resume(self) -> None:
        """Continue from where it paused, paced from now."""
        self._running.set()
        self._wake.set()

    def step_once(self, samples: int = 1) -> None:
        """While paused, produce ``samples`` more samples."""
        if not self.can_step:
            return
        self._steps_requested += samples
        self._wake.set()

    def step_stride(self) -> None:
        """While paused, produce samples until the next stride ends (at most ``MAX_STRIDE_STEP_S`` of signal)."""
        if not self.can_step:
            return
        self._stride_steps_requested += 1
        self._wake.set()

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the source thread before the next sample (for retuning)."""
        self._tasks.put(fn)
        self._wake.set()

    def retune(self, kind: str, config: Config) -> None:
        """Apply a new ``controller`` or ``walker`` config between two samples.

        The config is checked once, when the source thread takes it up; a
        refused one (unsafe, or invalid for this source) is logged and shown in
        the status line, and the running settings stay.
        """
        self.submit(lambda: self._retune_or_refuse(kind, config))

    def _retune_or_refuse(self, kind: str, config: Config) -> None:
        try:
            self._retune(kind, config)
        except FesError as exc:
            log.warning("%s settings refused, keeping the running ones: %s", kind, exc)
            self.status.notice = f"{kind} settings refused: {exc}"
        else:
            self.status.notice = ""

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    # ----------------------------------------------------------------- thread
    def _run(self) -> None:
        try:
            self._open()
            self._loop()
        except BaseException as exc:  # reported in the status line; the GUI stays up
            if isinstance(exc, FesError) or hasattr(exc, "exit_code"):  # a user or device error, not a bug
                log.error("%s source stopped: %s", self.label, exc)
            else:
                log.exception("%s source stopped", self.label)
            self.error = exc
            self.status.faults = f"source error: {exc}"
        finally:
            self.finished = True
            self.status.finished = True
            try:
                self._close()
            finally:
                self._flush()

    def _run_tasks(self) -> None:
        while True:
            try:
                fn = self._tasks.get_nowait()
            except queue.Empty:
                return
            fn()

    def _loop(self) -> None:
        period_s = 1.0 / self.sample_rate_hz
        max_batch = max(1, int(MAX_BATCH_S * self.sample_rate_hz))
        anchor_wall, produced = self._clock(), 0
        was_running = True
        while not self._stop.is_set():
            self._run_tasks()
            running = self._running.is_set()
            if not running:
                was_running = False
                if self._steps_requested > 0 and self.can_step:
                    self._steps_requested -= 1
                    if not self._advance():
                        return
                    self._flush()
                    continue
                if self._stride_steps_requested > 0 and self.can_step:
                    self._stride_steps_requested -= 1
                    if not self._advance_to_stride_end():
                        return
                    self._flush()
                    continue
                if not self.paced:  # a device keeps streaming; drain it unseen
                    if not self._advance():
                        return
                    self._discard()
                    continue
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            if not was_running:
                anchor_wall, produced, was_running = self._clock(), 0, True
            if not self.paced:
                for _ in range(max_batch):
                    if not self._advance():
                        return
                    if self._out_rows and self._clock() - anchor_wall > 0.02:
                        break
                anchor_wall = self._clock()
                self._flush()
                continue
            due = int((self._clock() - anchor_wall) * self.speed / period_s) - produced
            for _ in range(min(max(due, 0), max_batch)):
                if not self._advance():
                    return
                produced += 1
            if due > max_batch:  # cannot keep up: drop the backlog instead of lagging forever
                anchor_wall, produced = self._clock(), 0
            self._flush()
            self._wake.wait(0.005)
            self._wake.clear()

    def _advance_to_stride_end(self) -> bool:
        """Advance until a finished stride is queued or ``MAX_STRIDE_STEP_S`` has passed; False if the source ended."""
        for _ in range(max(1, int(MAX_STRIDE_STEP_S * self.sample_rate_hz))):
            if not self._advance():
                return False
            if self._out_strides:
                break
        return True

    def _flush(self) -> None:
        status = self._status_copy()
        if not (self._out_rows or self._out_detected or self._out_truth or self._out_strides) and status == self._pushed_status:
            return
        self.buffer.push(self._out_rows, self._out_detected, self._out_truth, self._out_strides, status)
        self._pushed_status = status
        self._discard()

    def _discard(self) -> None:
        self._out_rows, self._out_detected, self._out_truth, self._out_strides = [], [], [], []

    def _status_copy(self) -> Status:
        s = self.status
        return Status(stim_state=s.stim_state, faults=s.faults, link=s.link, source=s.source, finished=s.finished,
                      notice=s.notice)
