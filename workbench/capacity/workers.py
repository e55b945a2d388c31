"""Where the model's work runs: in this process, on local worker processes, or on a Dask cluster.

An :class:`Executor` runs a list of calls of one module-level function and returns their
results in the order given, whatever order they finish in, so where work ran never changes
a figure. ``slots`` says how many calls it runs at once, so callers can cut their work finer
(one region of a replication per call) when there are fewer replications than slots.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, Protocol

from workbench.errors import ConfigError, TransportError

Progress = Callable[[int, int], None]
"""Called with (done, total) after each call finishes."""


class Executor(Protocol):
    """Runs calls of ``fn``; results come back in the order of ``calls``."""

    slots: int

    def map(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[Any]: ...


class InProcess:
    """Every call in this process, one after another."""

    slots = 1

    def map(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[Any]:
        out = []
        for i, args in enumerate(calls):
            out.append(fn(*args))
            if progress:
                progress(i + 1, len(calls))
        return out


class LocalProcesses:
    """Calls spread over a pool of local worker processes (started once, reused)."""

    def __init__(self, pool: ProcessPoolExecutor, slots: int) -> None:
        self.pool, self.slots = pool, slots

    def map(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[Any]:
        results: list[Any] = [None] * len(calls)
        futures: dict[Future[Any], int] = {
            self.pool.submit(fn, *args): i for i, args in enumerate(calls)
        }
        for done, fut in enumerate(as_completed(futures), 1):
            results[futures[fut]] = fut.result()
            if progress:
                progress(done, len(calls))
        return results


class DaskCluster:
    """Calls submitted to a Dask scheduler; its workers import this package and run them."""

    def __init__(self, client: Any) -> None:
        self.client = client
        workers = client.scheduler_info().get("workers", {})
        self.slots = max(1, sum(w.get("nthreads", 1) for w in workers.values()))

    def map(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[Any]:
        from distributed import as_completed as dask_completed

        futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(calls)
        for done, fut in enumerate(dask_completed(futures), 1):
            results[index[fut.key]] = fut.result()
            if progress:
                progress(done, len(calls))
        return results


@contextmanager
def executor(
    workers: int | None = None, scheduler: str | None = None, calls: int | None = None
) -> Iterator[Executor]:
    """An executor for ``workers`` local processes (default: CPUs; 1 runs in this process),
    or for the Dask scheduler at ``scheduler``. ``calls`` caps the processes started."""
    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise TransportError(f"cannot reach Dask scheduler {scheduler}: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"--scheduler {scheduler!r}: not a scheduler address ({exc})"
            ) from None
        with client:
            yield DaskCluster(client)
        return
    n = workers or os.cpu_count() or 1
    if calls is not None:
        n = min(n, calls)
    if n <= 1:
        yield InProcess()
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        try:
            yield LocalProcesses(pool, n)
        except BaseException:
            # Ctrl-C (or an error) stops the workers now: the pool's own exit ran every queued
            # call to the end first (a sweep went on for 21 s after Ctrl-C at load 3), and a
            # worker whose call Ctrl-C interrupted took the next one already sent to it
            processes = list((pool._processes or {}).values())  # shutdown forgets them
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join()
            raise
