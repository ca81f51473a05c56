"""Selections that return values and indices: `max`/`min` along a dim, `sort`, `topk`,
`kthvalue`, `median`; and `argmax`/`argmin`.

Each is an exact composite of the registered `getitem` op: numpy finds the indices (not
differentiable, returned as an int64 constant tensor) and the values are gathered from the
input at those indices, so the gradient goes to exactly the elements returned, as in PyTorch.
Results are named tuples like `torch.return_types.max`: `values, indices = t.max(dim=1)`
or `t.max(dim=1).values`.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..registry import apply
from ..tensor import Tensor
from ._util import const
from .scan import scan_axis


def _result_type(name: str) -> type:
    cls = namedtuple(name, ["values", "indices"])  # noqa: PYI024  (torch's plain field names)
    cls.__doc__ = f"(values, indices) of `{name}`, as `torch.return_types.{name}`."
    return cls


# torch.return_types.<name> counterparts, one class each so a result's repr names its op.
RETURN_TYPES = {name: _result_type(name)
                for name in ("max", "min", "sort", "topk", "kthvalue", "median")}


def take_along_axis(x: Tensor, indices: np.ndarray, axis: int) -> Tensor:
    """`x` gathered at integer `indices` along `axis` (numpy's `take_along_axis`,
    PyTorch's `gather`) through the recorded getitem op: the gradient lands on the picks.

    Parameters
    ----------
    x : Tensor
        The input.
    indices : ndarray of int
        Positions along `axis`; as many dims as `x`.
    axis : int
        A non-negative axis.
    """
    grids = np.ogrid[tuple(slice(s) for s in indices.shape)]
    index = tuple(indices if d == axis else grids[d] for d in range(x.ndim))
    return apply("getitem", x, index=index)


def _select(name: str, x: Tensor, dim: Any, keepdim: bool, pick: Any) -> tuple[Tensor, Tensor]:
    """(values, indices) along `dim` at the indices `pick(array, axis)` returns (with the
    axis kept, of length 1 or more)."""
    if x.ndim == 0:
        scan_axis(dim, 0, name)  # (validates dim: 0 or -1)
        values, indices = _select(name, x.reshape(1), 0, False, pick)
        return RETURN_TYPES[name](values.reshape(()), indices.reshape(()))
    axis = scan_axis(dim, x.ndim, name)
    indices = pick(x.data, axis)
    values = take_along_axis(x, indices, axis)
    if not keepdim and indices.shape[axis] == 1:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return RETURN_TYPES[name](values, const(indices.astype(np.int64)))


def _nonempty(name: str, x: np.ndarray, axis: int) -> None:
    if x.shape[axis] == 0:
        raise IndexError(f"{name}: cannot reduce over dim {axis} of size 0 (shape {x.shape})")


def _first_extremum(name: str, arg: Any) -> Any:
    def pick(a: np.ndarray, axis: int) -> np.ndarray:
        _nonempty(name, a, axis)
        return arg(a, axis=axis, keepdims=True)  # the first one: NaN wins, as in PyTorch
    return pick


def max_along(x: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """(values, indices) of the maxima along `dim`; the gradient goes to the index returned.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int
        The axis searched.
    keepdim : bool, default False
        Keep that axis with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> values, indices = tg.Tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
    >>> values.tolist(), indices.tolist()
    ([5.0, 7.0], [1, 0])
    """
    return _select("max", x, dim, keepdim, _first_extremum("max", np.argmax))


def min_along(x: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """(values, indices) of the minima along `dim`; the gradient goes to the index returned.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int
        The axis searched.
    keepdim : bool, default False
        Keep that axis with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.Tensor([[1.0, 5.0], [7.0, 2.0]]).min(dim=0).indices.tolist()
    [0, 1]
    """
    return _select("min", x, dim, keepdim, _first_extremum("min", np.argmin))


def arg_extremum(name: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """`argmax`/`argmin`: int64 indices along `dim` (over the flattened tensor when
    `dim` is None), no gradient.

    Parameters
    ----------
    name : {"argmax", "argmin"}
        Which one (also named in the errors).
    x : Tensor
        The input.
    dim : int or None
        The axis searched; the flattened tensor when None.
    keepdim : bool, default False
        Keep that axis with size 1.
    """
    data = x.data
    if dim is None:
        if data.size == 0:
            raise ValueError(f"{name}: the tensor is empty (shape {data.shape})")
        flat = getattr(np, name)(data)
        return const(np.full((1,) * data.ndim if keepdim else (), flat, dtype=np.int64))
    axis = scan_axis(dim, data.ndim, name)
    if data.ndim == 0:
        return const(np.zeros((), dtype=np.int64))
    _nonempty(name, data, axis)
    return const(getattr(np, name)(data, axis=axis, keepdims=keepdim).astype(np.int64))


def _argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable ascending or descending order (ties keep their order; NaN sorts as largest)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # Sorting the reversed array stably and reversing the result keeps ties in their
    # original order, where argsort(-a) would not (and fails on unsigned and bool).
    reverse = (slice(None),) * axis + (slice(None, None, -1),)
    return (a.shape[axis] - 1 - np.argsort(a[reverse], axis=axis, kind="stable"))[reverse]


def sort(x: Tensor, dim: int = -1, descending: bool = False,
         stable: bool = False) -> tuple[Tensor, Tensor]:
    """Sorted values along `dim` and the indices they came from.

    The sort is always stable (`stable` is accepted for PyTorch's signature): ties keep
    their order, also with `descending=True`. NaN sorts as the largest value.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int, default -1
        The axis sorted.
    descending : bool, default False
        Largest first.
    stable : bool, default False
        Accepted for PyTorch's signature; the sort is always stable.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.sort(tg.Tensor([3.0, 1.0, 2.0]), descending=True).indices.tolist()
    [0, 2, 1]
    """
    return _select("sort", x, dim, True, lambda a, axis: _argsort(a, axis, descending))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> tuple[Tensor, Tensor]:
    """The `k` largest (or smallest) values along `dim`, in order, and their indices.

    Parameters
    ----------
    x : Tensor
        The input.
    k : int
        How many values, 0 <= k <= the size along `dim`.
    dim : int, default -1
        The axis searched.
    largest : bool, default True
        The k largest (else the k smallest).
    sorted : bool, default True
        Accepted for PyTorch's signature; the values always come in order.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.topk(tg.Tensor([1.0, 4.0, 2.0, 3.0]), 2).values.tolist()
    [4.0, 3.0]
    """
    def pick(a: np.ndarray, axis: int) -> np.ndarray:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or \
                not 0 <= k <= a.shape[axis]:
            raise IndexError(f"topk: k={k!r} is out of range for dim {axis} of size "
                             f"{a.shape[axis]}")
        return np.take(_argsort(a, axis, largest), np.arange(k), axis=axis)
    return _select("topk", x, dim, True, pick)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """The `k`-th smallest value along `dim` (`k` counts from 1) and its index.

    Parameters
    ----------
    x : Tensor
        The input.
    k : int
        Which value, counting from 1 (the smallest).
    dim : int, default -1
        The axis searched.
    keepdim : bool, default False
        Keep that axis with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.kthvalue(tg.Tensor([3.0, 1.0, 2.0]), 2).values.item()
    2.0
    """
    def pick(a: np.ndarray, axis: int) -> np.ndarray:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or \
                not 1 <= k <= a.shape[axis]:
            raise IndexError(f"kthvalue: k={k!r} is out of range for dim {axis} of size "
                             f"{a.shape[axis]} (k counts from 1)")
        return np.take(_argsort(a, axis, False), [k - 1], axis=axis)
    return _select("kthvalue", x, dim, keepdim, pick)


def _lower_median(a: np.ndarray, axis: int) -> np.ndarray:
    _nonempty("median", a, axis)
    middle = np.take(_argsort(a, axis, False), [(a.shape[axis] - 1) // 2], axis=axis)
    if a.dtype.kind == "f":  # a NaN in a line is its median, as in PyTorch (see nanmedian)
        nan = np.isnan(a)
        first_nan = np.argmax(nan, axis=axis, keepdims=True)
        middle = np.where(nan.any(axis=axis, keepdims=True), first_nan, middle)
    return middle


def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (the smaller of the two middle values for an even count), as PyTorch.

    Without `dim`: the median of all elements, a 0-d tensor. With `dim`: `(values,
    indices)` along it. The gradient goes to the element returned.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int, optional
        The axis; the median of all elements (a 0-d tensor) when None.
    keepdim : bool, default False
        With `dim`, keep that axis with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.median(tg.Tensor([4.0, 1.0, 3.0, 2.0])).item()
    2.0
    """
    if dim is None:
        if x.size == 0:
            return const(np.full((), np.nan, dtype=x.dtype))
        return _select("median", x.reshape(-1), 0, False, _lower_median).values
    return _select("median", x, dim, keepdim, _lower_median)
