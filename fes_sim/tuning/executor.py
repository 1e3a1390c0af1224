"""Where tasks run: in-process, a local process pool, or a Dask cluster.

``Executor(scheduler=None, workers=N)`` picks a local pool of ``N`` processes
(``N = 0``: in-process, for tests and debugging); ``scheduler="local"`` starts a
Dask ``LocalCluster``; any other ``scheduler`` is a Dask scheduler address
(``tcp://host:8786``). Large arguments shared by every task are sent once to each
Dask worker (``scatter(broadcast=True)``).

Local workers (pool processes, and the workers of a ``LocalCluster``) ignore SIGINT:
a Ctrl-C reaches the main process only, which stops the workers at once
(``Pool.terminate``, or closing the cluster) instead of waiting for their tasks;
every result already returned is on disk.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from typing import Any, Callable, Iterator, Sequence

from fes_sim.errors import ConfigError

log = logging.getLogger(__name__)


class Executor:
    """Runs ``fn(item, *shared)`` for many items and yields results as they complete."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        if self.workers < 0:
            raise ConfigError(f"--workers: {workers!r} must be >= 0")
        self._pool: multiprocessing.pool.Pool | None = None
        self._client: Any = None
        self._cluster: Any = None
        self._pending: list[Any] = []
        if scheduler is not None:
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError:
                raise ConfigError("--scheduler needs dask[distributed] (pip install 'fes-sim[tune]')") from None
            if scheduler == "local":
                with _sigint_ignored():  # the worker processes inherit it
                    self._cluster = LocalCluster(n_workers=max(1, self.workers), threads_per_worker=1, processes=True, dashboard_address=None)
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(scheduler, timeout="10s")
                except (OSError, TimeoutError) as exc:
                    raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
            self.workers = max(1, sum(self._client.nthreads().values()))  # tasks are balanced over these
            log.info("dask scheduler %s", self._client.scheduler.address)
        elif self.workers > 0:
            self._pool = multiprocessing.Pool(self.workers, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))

    @property
    def description(self) -> str:
        """Where tasks run, for the summary."""
        if self._client is not None:
            return f"dask scheduler {self._client.scheduler.address}"
        if self._pool is not None:
            return f"{self.workers} local processes"
        return "in-process"

    def map_unordered(self, fn: Callable[..., Any], items: Sequence[Any], *shared: Any) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(items[index], *shared))`` in completion order."""
        if self._client is not None:
            from dask.distributed import as_completed

            shared_f = [self._client.scatter(x, broadcast=True, hash=False) for x in shared]
            futs = {self._client.submit(fn, item, *shared_f, pure=False): i for i, item in enumerate(items)}
            self._pending = list(futs)
            for fut in as_completed(list(futs)):
                yield futs[fut], fut.result()
            return
        if self._pool is not None:
            yield from self._pool.imap_unordered(functools.partial(_indexed, fn, shared), enumerate(items))
            return
        for i, item in enumerate(items):
            yield i, fn(item, *shared)

    def close(self, abort: bool = False) -> None:
        """Release workers (idempotent); ``abort``: stop running tasks now and drop queued ones."""
        for fut in self._pending:
            fut.cancel()
        self._pending = []
        if self._pool is not None:
            if abort:
                self._pool.terminate()
            else:
                self._pool.close()
            self._pool.join()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        self.close(abort=exc_type is not None)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored inside the block (in the main thread; elsewhere signals cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _indexed(fn: Callable[..., Any], shared: tuple[Any, ...], pair: tuple[int, Any]) -> tuple[int, Any]:
    """``(index, fn(item, *shared))`` of an ``(index, item)`` pair (a picklable pool task)."""
    return pair[0], fn(pair[1], *shared)
