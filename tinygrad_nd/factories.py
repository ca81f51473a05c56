"""Tensor factories and the random-number story.

Reproducibility: every random factory takes `generator=`, a `Generator` (or a numpy
`Generator`); without one it draws from a process-wide default that `manual_seed`
resets. Models, initialisers, dropout and data loaders follow the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from . import dtypes
from .methods._args import as_tuple as _as_tuple
from .tensor import Tensor


class Generator:
    """A seeded source of random numbers (wraps `numpy.random.Generator`).

    Parameters
    ----------
    seed : int or None
        The seed (None: fresh, unpredictable entropy).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> a = tg.randn(3, generator=tg.Generator(0)); b = tg.randn(3, generator=tg.Generator(0))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, seed: int | None = None) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        """Restart the stream from `seed`; returns `self`.

        Parameters
        ----------
        seed : int or None
            The seed (None: fresh, unpredictable entropy).
        """
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        return self


_default_generator = Generator(0)


def default_generator() -> Generator:
    """The process-wide generator used when no `generator=` is passed."""
    return _default_generator


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (as `torch.manual_seed`); returns it.

    Parameters
    ----------
    seed : int or None
        The seed (None: fresh, unpredictable entropy).
    """
    return _default_generator.manual_seed(seed)


def rng_of(generator: Generator | np.random.Generator | None) -> np.random.Generator:
    """The numpy generator behind `generator` (the default one when None).

    Parameters
    ----------
    generator : Generator, numpy Generator or None
        The generator (None: the default one).
    """
    if generator is None:
        return _default_generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    return generator.rng


def _float(dtype: DTypeLike | None, where: str) -> np.dtype:
    """`dtype` checked for `where` (the default float dtype when None)."""
    return dtypes.get_default_dtype() if dtype is None else dtypes.check_dtype(dtype, where)


def _fill_value(value: Any, where: str) -> Any:
    """A fill value numpy would not quietly truncate (a complex one loses its imaginary part)."""
    dtypes.check_dtype(np.asarray(value).dtype, f"{where}: fill_value")
    return value


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def zeros(*shape: int | Sequence[int], dtype: DTypeLike | None = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros. `tg.zeros(2, 3)` or `tg.zeros((2, 3))`.

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as separate sizes or one sequence.
    dtype : numpy dtype, optional
        The dtype (default: the default float dtype, see `set_default_dtype`).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return _new(np.zeros(_as_tuple(shape), _float(dtype, "zeros")), requires_grad)


def ones(*shape: int | Sequence[int], dtype: DTypeLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as separate sizes or one sequence.
    dtype : numpy dtype, optional
        The dtype (default: the default float dtype, see `set_default_dtype`).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return _new(np.ones(_as_tuple(shape), _float(dtype, "ones")), requires_grad)


def full(shape: Sequence[int] | int, fill_value: float, dtype: DTypeLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with `fill_value`.

    Parameters
    ----------
    shape : int or sequence of int
        The shape.
    fill_value : float
        The value of every element.
    dtype : numpy dtype, optional
        The dtype (default: the default float dtype).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _new(np.full(shape, _fill_value(fill_value, "full"), _float(dtype, "full")),
                requires_grad)


def randn(*shape: int | Sequence[int], dtype: DTypeLike | None = None,
          generator: Generator | None = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples.

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as separate sizes or one sequence.
    dtype : numpy dtype, optional
        The dtype (default: the default float dtype, see `set_default_dtype`).
    generator : Generator, optional
        The source of random numbers (default: the default generator, see `manual_seed`).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.randn(2, 3, generator=tg.Generator(1)).shape
    (2, 3)
    """
    dt = dtypes.check_float_dtype(dtype, "randn")
    return _new(rng_of(generator).standard_normal(_as_tuple(shape)).astype(dt), requires_grad)


def rand(*shape: int | Sequence[int], dtype: DTypeLike | None = None,
         generator: Generator | None = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1).

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as separate sizes or one sequence.
    dtype : numpy dtype, optional
        The dtype (default: the default float dtype, see `set_default_dtype`).
    generator : Generator, optional
        The source of random numbers (default: the default generator, see `manual_seed`).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    dt = dtypes.check_float_dtype(dtype, "rand")
    return _new(rng_of(generator).random(_as_tuple(shape)).astype(dt), requires_grad)


def randint(low: int, high: int, shape: Sequence[int],
            generator: Generator | None = None) -> Tensor:
    """Integers uniform in [low, high), int64.

    Parameters
    ----------
    low, high : int
        The range, high excluded.
    shape : sequence of int
        The shape.
    generator : Generator, optional
        The source of random numbers (default: the default generator, see `manual_seed`).
    """
    return Tensor(rng_of(generator).integers(low, high, size=tuple(shape)), dtype=np.int64)


def arange(start: float, stop: float | None = None, step: float = 1,
           dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for integer arguments, else float.

    Parameters
    ----------
    start : float
        First value (or, without `stop`, the end: the range is [0, start)).
    stop : float, optional
        End of the range (excluded).
    step : float
        Spacing between values.
    dtype : numpy dtype, optional
        The dtype (default: int64 for integer arguments, else the default float dtype).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    if stop is None:
        start, stop = 0, start
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    dt = (_float(dtype, "arange") if dtype is not None or not is_int else dtypes.int64)
    return _new(np.arange(start, stop, step, dtype=dt), requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike | None = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (n x m).

    Parameters
    ----------
    n : int
        Number of rows.
    m : int, optional
        Number of columns (default: n).
    dtype : numpy dtype, optional
        The dtype (default: the default float dtype, see `set_default_dtype`).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return _new(np.eye(n, m, dtype=_float(dtype, "eye")), requires_grad)


def zeros_like(t: Tensor, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Zeros with `t`'s shape and dtype.

    Parameters
    ----------
    t : Tensor
        The tensor whose shape (and dtype) the result takes.
    dtype : numpy dtype, optional
        The dtype (default: `t`'s).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return _new(np.zeros(t.shape, t.dtype if dtype is None else _float(dtype, "zeros_like")),
                requires_grad)


def ones_like(t: Tensor, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Ones with `t`'s shape and dtype.

    Parameters
    ----------
    t : Tensor
        The tensor whose shape (and dtype) the result takes.
    dtype : numpy dtype, optional
        The dtype (default: `t`'s).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return _new(np.ones(t.shape, t.dtype if dtype is None else _float(dtype, "ones_like")),
                requires_grad)


def full_like(t: Tensor, fill_value: float, requires_grad: bool = False) -> Tensor:
    """`fill_value` with `t`'s shape and dtype.

    Parameters
    ----------
    t : Tensor
        The tensor whose shape (and dtype) the result takes.
    fill_value : float
        The value of every element.
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return _new(np.full(t.shape, _fill_value(fill_value, "full_like"), t.dtype), requires_grad)


def randn_like(t: Tensor, generator: Generator | None = None, **kwargs: Any) -> Tensor:
    """Standard normal samples with `t`'s shape and dtype.

    Parameters
    ----------
    t : Tensor
        The tensor whose shape (and dtype) the result takes.
    generator : Generator, optional
        The source of random numbers (default: the default generator, see `manual_seed`).
    **kwargs
        `dtype`, `requires_grad` as in `randn`.
    """
    return randn(t.shape, dtype=t.dtype, generator=generator, **kwargs)


def rand_like(t: Tensor, generator: Generator | None = None, **kwargs: Any) -> Tensor:
    """Uniform [0, 1) samples with `t`'s shape and dtype.

    Parameters
    ----------
    t : Tensor
        The tensor whose shape (and dtype) the result takes.
    generator : Generator, optional
        The source of random numbers (default: the default generator, see `manual_seed`).
    **kwargs
        `requires_grad` as in `rand`.
    """
    return rand(t.shape, dtype=t.dtype, generator=generator, **kwargs)


def tensor(data: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Same as `Tensor(data, ...)` (PyTorch's `torch.tensor`).

    Parameters
    ----------
    data : array-like or Tensor
        The values (a Tensor's data is copied).
    dtype : numpy dtype, optional
        The dtype (default: integers and bools keep theirs, floats get the default dtype).
    requires_grad : bool
        Whether the new tensor is a leaf that requires gradients.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
