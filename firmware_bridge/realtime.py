"""Real-time scheduling for HIL processes: what a bench PC does for deterministic latency.

A host-in-the-loop run must wake within a fraction of a millisecond of every
sample. On a shared, non-real-time kernel the tail of that latency is set by
the scheduler, not by our code. :func:`realtime` raises every thread of this
process to ``SCHED_FIFO`` (or, where that is not permitted, to a negative
nice value), freezes the objects alive so far out of the garbage collector's
reach, and puts everything back on exit. Without the privilege it changes
nothing and says so in the log and in :attr:`Priority.description`.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)

FIFO_PRIORITY = 50  # mid-range RT priority: above normal threads, below the kernel's own RT threads (99)
NICE = -10


@dataclass(frozen=True)
class Priority:
    """The scheduling a :func:`realtime` block got: ``"SCHED_FIFO 50"``, ``"nice -10"`` or ``"normal (...)"``."""

    description: str
    raised: bool


def _thread_ids() -> list[int]:
    """Kernel ids of this process's threads (Linux), or ``[0]`` (the calling thread) elsewhere."""
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def _set_fifo(tids: list[int], priority: int) -> list[tuple[int, int, int]]:
    """SCHED_FIFO on every thread; returns (tid, old policy, old priority) to undo. Raises OSError."""
    undo = []
    try:
        for tid in tids:
            old = (tid, os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority)
            os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(priority))
            undo.append(old)
    except OSError:
        _restore_fifo(undo)
        raise
    return undo


def _restore_fifo(undo: list[tuple[int, int, int]]) -> None:
    for tid, policy, priority in undo:
        try:
            os.sched_setscheduler(tid, policy, os.sched_param(priority))
        except OSError:  # the thread has ended meanwhile
            pass


def _set_nice(tids: list[int], nice: int) -> list[tuple[int, int]]:
    """Nice value per thread (Linux applies PRIO_PROCESS to one thread id); returns what to undo. Raises OSError."""
    undo = []
    try:
        for tid in tids:
            undo.append((tid, os.getpriority(os.PRIO_PROCESS, tid)))
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:
        _restore_nice(undo)
        raise
    return undo


def _restore_nice(undo: list[tuple[int, int]]) -> None:
    for tid, value in undo:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, value)
        except OSError:
            pass


@contextmanager
def realtime(enabled: bool = True, fifo_priority: int = FIFO_PRIORITY, nice: int = NICE) -> Iterator[Priority]:
    """Run the block with raised scheduling priority and a frozen garbage collector.

    Every existing thread of the process is raised and restored on exit;
    threads started inside the block inherit the raised priority and keep it. ``SCHED_FIFO`` at ``fifo_priority`` is
    tried first, then ``nice``; when neither is permitted the block runs at
    normal priority and an info line is logged. The kernel's real-time
    throttling (``/proc/sys/kernel/sched_rt_runtime_us``) still keeps 5 % of
    each second for other tasks, so a stuck FIFO thread cannot lock the machine.

    Yields
    ------
    Priority
        What was obtained, for reports.
    """
    if not enabled:
        yield Priority("normal (not requested)", False)
        return
    tids = _thread_ids()
    undo_fifo: list[tuple[int, int, int]] = []
    undo_nice: list[tuple[int, int]] = []
    if hasattr(os, "sched_setscheduler"):
        try:
            undo_fifo = _set_fifo(tids, fifo_priority)
            priority = Priority(f"SCHED_FIFO {fifo_priority}", True)
        except OSError as exc:
            log.info("SCHED_FIFO not permitted (%s); trying nice %d", exc.strerror, nice)
    if not undo_fifo:
        try:
            undo_nice = _set_nice(tids, nice)
            priority = Priority(f"nice {nice}", True)
        except (OSError, AttributeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            log.info("raising the scheduling priority is not permitted (%s); running at normal priority", reason)
            priority = Priority(f"normal ({reason}; run as root or with CAP_SYS_NICE)", False)
    gc.collect()
    gc.freeze()  # what exists now is never scanned again, so any later collection stays short
    try:
        yield priority
    finally:
        gc.unfreeze()
        _restore_fifo(undo_fifo)
        _restore_nice(undo_nice)
