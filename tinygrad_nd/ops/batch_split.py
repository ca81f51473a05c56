"""A big batch split over a few threads, one chunk of images per core.

tinygrad_nd keeps numpy's BLAS at one thread (`tinygrad_nd.threads`), because a second
BLAS thread slows the small matrix products of the nets it is about. A convolution over a
batch is different: its images are independent, and numpy releases the GIL inside its copies
and its BLAS calls, so chunks of the batch computed in separate Python threads run on
separate cores. The convolution ops split their work this way when it is big enough to pay
for handing a chunk to another thread (their `split_min_work` parameter, in multiply-adds;
from `SPLIT_MIN_WORK` on by default).
The calling thread and the pool's threads take the chunks one at a time (on a busy machine
the calling thread may compute them all); the chunks are fixed by the batch size and thread
count alone, and partial sums (a weight gradient) are added in chunk order, so results do not
depend on which thread computed what.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# Default `split_min_work`: multiply-adds from which a convolution splits its batch. On an
# idle 2-core machine the split made the kernel rows of 21 to 150 million multiply-adds
# 1.3-1.9x faster, while the benchmark CNN's layers (7 and 13 million) gained nothing and
# lost up to a tenth: below this the handoffs cost what the second core saves. On a machine
# whose cores are busy it costs up to a fifth (PyTorch's two threads lose far more there).
# docs/performance.md has the measurements. `tg.set_conv_threads(1)`, or an op's
# `split_min_work=math.inf` or `threads=1`, keeps convolutions on one thread.
SPLIT_MIN_WORK = 16_000_000

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


_chosen_threads: list[int | None] = [None]  # set by `tinygrad_nd.set_conv_threads`


def default_threads() -> int:
    """The number of chunks a big batch is split into: what `tg.set_conv_threads` chose, else
    one per core this process may use."""
    if _chosen_threads[0] is not None:
        return _chosen_threads[0]
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on macOS or Windows)
        return os.cpu_count() or 1


def batch_chunks(n: int, work: float, min_work: float, threads: int | None = None
                 ) -> list[slice]:
    """Split a batch of `n` images into contiguous chunks, one per thread, when `work`
    (multiply-adds) is at least `min_work`; otherwise one chunk, the whole batch.

    Parameters
    ----------
    n : int
        Images in the batch.
    work : float
        The computation's multiply-adds.
    min_work : float
        Work below which the batch is not split.
    threads : int, optional
        Chunks to split into (at most `n`); `default_threads()` when None.

    Examples
    --------
    >>> batch_chunks(10, work=1e9, min_work=1e6, threads=3)
    [slice(0, 4, None), slice(4, 7, None), slice(7, 10, None)]
    >>> batch_chunks(10, work=1e3, min_work=1e6, threads=3)
    [slice(0, 10, None)]
    """
    threads = default_threads() if threads is None else threads
    parts = min(n, threads) if work >= min_work else 1
    if parts <= 1:
        return [slice(0, n)]
    chunks, start = [], 0
    for i in range(parts):  # the larger chunks first (the first is the calling thread's)
        size = n // parts + (i < n % parts)
        chunks.append(slice(start, start + size))
        start += size
    return chunks


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tinygrad_nd")
        return _pool


def _forget_pool_after_fork() -> None:
    """A forked child has none of its parent's threads: it starts a pool of its own."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


class _Chunks:
    """The chunks of one call, taken one at a time by whichever thread is free."""

    def __init__(self, fn: Callable[[int, slice], Any], chunks: Sequence[slice]) -> None:
        self.fn, self.chunks = fn, chunks
        self.results: list[Any] = [None] * len(chunks)
        self.errors: list[tuple[int, BaseException]] = []
        self.taken = itertools.count()  # (next() on it is atomic under the GIL)
        self.finished = 0
        self.all_finished = threading.Condition()

    def work(self) -> None:
        while (i := next(self.taken)) < len(self.chunks):
            try:
                self.results[i] = self.fn(i, self.chunks[i])
            except BaseException as error:  # re-raised by the calling thread
                self.errors.append((i, error))
            with self.all_finished:
                self.finished += 1
                if self.finished == len(self.chunks):
                    self.all_finished.notify_all()

    def wait(self) -> list[Any]:
        """Wait until every chunk is done; return their results (or raise the first error)
        and drop every reference to the work, since a pool thread that had no core until now
        may still hold this object in its queue for a while."""
        with self.all_finished:
            self.all_finished.wait_for(lambda: self.finished == len(self.chunks))
        results, errors = self.results, self.errors
        self.fn, self.chunks, self.results, self.errors = None, (), [], []  # type: ignore
        if errors:
            raise min(errors, key=lambda e: e[0])[1]
        return results


def run_chunks(fn: Callable[[int, slice], T], chunks: Sequence[slice]) -> list[T]:
    """`[fn(i, chunk) for i, chunk in enumerate(chunks)]`, computed by the calling thread and
    the pool's threads together; results in chunk order.

    Each thread takes the next chunk nobody has taken yet, the calling thread included, and
    the call returns once every chunk is done. So on a machine whose other cores are busy,
    the calling thread computes the chunks itself instead of waiting for a thread that does
    not get a core; an error in a chunk is raised (the first chunk's first) after all
    chunks finished.

    Parameters
    ----------
    fn : callable
        Called with each chunk's index and slice.
    chunks : sequence of slice
        From `batch_chunks`.

    Examples
    --------
    >>> run_chunks(lambda i, s: (i, s.stop - s.start), [slice(0, 2), slice(2, 3)])
    [(0, 2), (1, 1)]
    """
    if len(chunks) == 1:
        return [fn(0, chunks[0])]
    run = _Chunks(fn, chunks)
    pool = _executor(len(chunks) - 1)
    for _ in range(len(chunks) - 1):
        # in a copy of the caller's context: numpy's floating-point error state (the
        # engine's backward ignores some events) and the grad mode are context variables
        pool.submit(contextvars.copy_context().run, run.work)
    run.work()
    return run.wait()
