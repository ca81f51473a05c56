"""How many threads numpy's BLAS (OpenBLAS, MKL, BLIS) uses for tinygrad_nd's matrix products.

The nets tinygrad_nd is about multiply small matrices (784 x 30, 64 x 100 ...). For those, a
second BLAS thread saves almost nothing, while its cost is large whenever the cores are busy
with anything else: OpenBLAS threads spin while they wait, and a training epoch measured 5 to
30 times slower with two threads than with one on a loaded two-core machine (see
docs/performance.md). So tinygrad_nd's policy is **one BLAS thread**, applied when the package
is imported, unless you choose otherwise:

* the environment variable `TINYGRAD_ND_BLAS_THREADS` (a number, or `default` to leave BLAS
  as numpy configured it) is read at import;
* a BLAS environment variable you set yourself (`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS`,
  `MKL_NUM_THREADS`, `BLIS_NUM_THREADS`) is respected: tinygrad_nd then changes nothing;
* `set_blas_threads(n)` changes it for the process, `blas_threads(n)` for a `with` block.

The limit applies to the BLAS libraries loaded in the process (numpy's, and any other that
threadpoolctl finds), which is also what the environment variables would do.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits

from .ops import batch_split as _batch_split

BLAS_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "BLIS_NUM_THREADS")
ENV_VAR = "TINYGRAD_ND_BLAS_THREADS"

_original: list[Any] = []  # the limiter that restores numpy's own setting, once we changed it


def _checked(n: int | None, name: str, default: str = "BLAS's default") -> int | None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"{name}: the number of threads must be a positive int or None "
                         f"({default}), got {n!r}")
    return n


def set_conv_threads(n: int | None) -> None:
    """Split big convolutions over `n` threads from now on (`None`: one per core).

    A convolution of at least `ops.batch_split.SPLIT_MIN_WORK` multiply-adds computes chunks
    of its batch on separate threads (BLAS stays at one thread each); `1` keeps every
    convolution on the calling thread, e.g. when other processes share the cores or when
    you raised the BLAS threads. A convolution's own `threads` argument overrides this.

    Parameters
    ----------
    n : int or None
        Threads per big convolution; `None` restores one per core this process may use.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.set_conv_threads(1)
    >>> tg.set_conv_threads(None)
    """
    _batch_split._chosen_threads[0] = _checked(n, "set_conv_threads", "one per core")


def set_blas_threads(n: int | None) -> None:
    """Use `n` BLAS threads from now on (`None`: the setting numpy started with).

    Parameters
    ----------
    n : int or None
        Threads for matrix products; `None` restores the BLAS library's own setting.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.set_blas_threads(1); tg.blas_thread_count()
    1
    """
    _checked(n, "set_blas_threads")
    if n is None:
        if _original:
            _original.pop().restore_original_limits()
        return
    limiter = threadpool_limits(limits=n, user_api="blas")
    if not _original:
        _original.append(limiter)  # it remembers what was there before the first change


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Use `n` BLAS threads inside a `with` block (`None`: leave the setting as it is).

    Parameters
    ----------
    n : int or None
        Threads for matrix products inside the block.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> with tg.blas_threads(1):
    ...     print(tg.blas_thread_count())
    1
    """
    _checked(n, "blas_threads")
    if n is None:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def blas_thread_count() -> int | None:
    """The thread count of the first BLAS library loaded (None if there is none)."""
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return infos[0]["num_threads"] if infos else None


def apply_default_policy() -> None:
    """The import-time policy described in the module docstring."""
    if any(v in os.environ for v in BLAS_ENV_VARS):
        return  # the user chose already
    wanted = os.environ.get(ENV_VAR, "1").strip().lower()
    if wanted == "default":
        return
    try:
        n = int(wanted)
        _checked(n, ENV_VAR)
    except ValueError:
        raise ValueError(f"{ENV_VAR}: expected a positive number of threads or 'default', "
                         f"got {os.environ[ENV_VAR]!r}") from None
    set_blas_threads(n)
