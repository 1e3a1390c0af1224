"""Where tasks run: in-process, a local process pool, or a Dask cluster.

``Executor(scheduler=None, workers=N)`` picks a local pool of ``N`` processes
(``N = 0``: in-process, for tests and debugging); ``scheduler="local"`` starts a
Dask ``LocalCluster``; any other ``scheduler`` is a Dask scheduler address
(``tcp://host:8786``). Large arguments shared by every task are sent once to each
Dask worker (``scatter(broadcast=True)``).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import as_completed as cf_as_completed
from typing import Any, Callable, Iterator, Sequence

from fes_sim.errors import ConfigError

log = logging.getLogger(__name__)


class Executor:
    """Runs ``fn(item, *shared)`` for many items and yields results as they complete."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        if self.workers < 0:
            raise ConfigError(f"--workers: {workers!r} must be >= 0")
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._cluster: Any = None
        self._pending: list[Any] = []
        if scheduler is not None:
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError:
                raise ConfigError("--scheduler needs dask[distributed] (pip install 'fes-sim[tune]')") from None
            if scheduler == "local":
                self._cluster = LocalCluster(n_workers=max(1, self.workers), threads_per_worker=1, processes=True)
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(scheduler, timeout="10s")
                except (OSError, TimeoutError) as exc:
                    raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
            log.info("dask scheduler %s", self._client.scheduler.address)
        elif self.workers > 0:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)

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
            pfuts = {self._pool.submit(fn, item, *shared): i for i, item in enumerate(items)}
            self._pending = list(pfuts)
            for pf in cf_as_completed(pfuts):
                yield pfuts[pf], pf.result()
            return
        for i, item in enumerate(items):
            yield i, fn(item, *shared)

    def close(self) -> None:
        """Cancel what is still queued and release workers (idempotent)."""
        for fut in self._pending:
            fut.cancel()
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
