"""Gather and scatter: selection along one dimension by an index tensor.

The index is a parameter (a constant integer array, like `getitem`'s index), so each op
has tensor inputs only for the values. Each backward is written with `getitem` /
`index_add` and products with constant arrays, so it is recorded under
`create_graph=True` and twice differentiable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..registry import register_op
from .movement import GetItem, IndexAdd

SCATTER_REDUCTIONS = ("sum", "mean", "amax", "amin")


def check_index(index: Any, shape: tuple[int, ...], dim: int, op: str,
                others: tuple[tuple[str, tuple[int, ...]], ...] = ()) -> np.ndarray:
    """`index` as an int64 array valid for selecting along `dim` of `shape`.

    PyTorch's rules: same number of dimensions as the tensor (a 0-d tensor takes a 0-d
    index), values in `[0, shape[dim])` (no negative wrap-around), and each other
    dimension of the index no larger than that of the tensor (and of each of `others`,
    named arrays such as scatter's `src`, in every dimension).

    Parameters
    ----------
    index : array-like of int
        The index to check.
    shape : tuple of int
        The shape of the tensor selected from.
    dim : int
        The axis selected along (non-negative).
    op : str
        The calling function, named in the errors.
    others : tuple of (name, shape), default ()
        Further arrays the index must not exceed in any dimension.
    """
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
    if index.ndim != len(shape):
        raise RuntimeError(f"{op}: index has {index.ndim} dims but the tensor of shape {shape} "
                           f"has {len(shape)}; they must match")
    for d, (i, s) in enumerate(zip(index.shape, shape)):
        if d != dim and i > s:
            raise RuntimeError(f"{op}: index of shape {index.shape} is larger than the tensor "
                               f"of shape {shape} in dimension {d}")
    for name, other in others:
        if any(i > s for i, s in zip(index.shape, other)):
            raise RuntimeError(f"{op}: index of shape {index.shape} is larger than {name} of "
                               f"shape {other}")
    size = shape[dim] if shape else 1
    if index.size:
        bad = index[(index < 0) | (index >= size)]
        if bad.size:
            raise IndexError(f"{op}: index {int(bad.flat[0])} is out of bounds for dimension "
                             f"{dim} with size {size}")
    return index.astype(np.int64, copy=False)


def along(index: np.ndarray, dim: int) -> tuple[Any, ...]:
    """The numpy advanced index that reads `x[i0, .., index[i], .., in]` for every position
    `i` of `index` (what `np.take_along_axis` builds): `x[along(index, dim)]` is
    `gather(x, dim, index)`.

    Parameters
    ----------
    index : ndarray of int
        A checked index (`check_index`).
    dim : int
        The axis it selects along (non-negative).
    """
    if index.ndim == 0:
        return (Ellipsis,)  # a 0-d tensor: its only element (the index was checked to be 0)
    grids = list(np.ogrid[tuple(slice(s) for s in index.shape)])
    grids[dim] = index
    return tuple(grids)


def _region(index: np.ndarray) -> tuple[slice, ...]:
    """The leading block of `src` that scatter reads: `src[:index.shape]`."""
    return tuple(slice(s) for s in index.shape)


def _take_along_axis(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """numpy's gather (the reference): other dims of `x` cut to index's sizes first."""
    if x.ndim == 0:
        return x.copy()
    d = dim % x.ndim
    cut = tuple(slice(None) if a == d else slice(s) for a, s in enumerate(index.shape))
    return np.take_along_axis(x[cut], index, d)


@register_op("gather", nin=1, shape_rule="gather", reference=_take_along_axis)
class Gather(Function):
    """z[i] = x[i with index[i] at dim];  dz/dx: the gradient added back at index (repeats add)"""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.where, ctx.shape = along(index, dim), x.shape
        return x[ctx.where].copy()

    @staticmethod
    def backward(ctx, g):
        return (IndexAdd.apply(g, index=ctx.where, shape=ctx.shape),)


def _gather_back(g: Any, where: tuple[Any, ...], index: np.ndarray, src_shape: tuple[int, ...]
                 ) -> Any:
    """`g` read at `where` (index's shape), placed in zeros of `src`'s shape."""
    picked = GetItem.apply(g, index=where)
    if tuple(index.shape) == tuple(src_shape):
        return picked
    return IndexAdd.apply(picked, index=_region(index), shape=src_shape)


@register_op("scatter", nin=2, shape_rule="scatter")
class Scatter(Function):
    """z = x with z[index] = src;  dz/dx = 1 off the written places, else 0;  dz/dsrc = g[index]"""

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.where, ctx.index, ctx.src_shape = along(index, dim), index, src.shape
        out = x.copy()
        # with repeated places the last write wins (PyTorch leaves the order unspecified)
        out[ctx.where] = src[_region(index)]
        if ctx.recording:
            ctx.keep = np.ones(x.shape, dtype=x.dtype)
            ctx.keep[ctx.where] = 0
        return out

    @staticmethod
    def backward(ctx, g):
        dx = g * ctx.keep if ctx.needs_input_grad[0] else None
        dsrc = (_gather_back(g, ctx.where, ctx.index, ctx.src_shape)
                if ctx.needs_input_grad[1] else None)
        return dx, dsrc


@register_op("scatter_reduce", nin=2, shape_rule="scatter",
             params={"reduce": SCATTER_REDUCTIONS, "include_self": (True, False)})
class ScatterReduce(Function):
    """z = x with src reduced into z[index];  dz/dx, dz/dsrc: g, g / count (mean), g shared
    among the elements equal to the result (amax, amin), as PyTorch"""

    @staticmethod
    def forward(ctx, x, src, dim, index, reduce="sum", include_self=True):
        if reduce not in SCATTER_REDUCTIONS:
            raise ValueError(f"scatter_reduce: reduce must be one of {SCATTER_REDUCTIONS}, "
                             f"got {reduce!r}")
        where = along(index, dim)
        values = src[_region(index)]
        ufunc = {"sum": np.add, "mean": np.add, "amax": np.maximum, "amin": np.minimum}[reduce]
        out = x.copy()
        if not include_self:
            out[where] = _identity(reduce, x.dtype)
        ufunc.at(out, where, values)
        # count: how many values each place reduces (for the mean and for unwritten places).
        count = np.full(x.shape, int(include_self), dtype=x.dtype)
        np.add.at(count, where, 1)
        count[count == 0] = 1
        if reduce == "mean":  # integers round down, as PyTorch
            out = out / count if x.dtype.kind == "f" else out // count
        ctx.where, ctx.index, ctx.src_shape = where, index, src.shape
        ctx.self_weight = ctx.src_weight = ctx.share = None
        if not ctx.recording:  # the weights below serve the backward only
            return out
        if reduce in ("amax", "amin"):
            # PyTorch's rule: the gradient is shared equally among all elements (self's too,
            # even when include_self=False) that equal the result.
            self_hit = (x == out).astype(x.dtype)
            ctx.src_weight = (values == out[where]).astype(x.dtype)
            count = self_hit.copy()
            np.add.at(count, where, ctx.src_weight)
            count[count == 0] = 1
            ctx.self_weight = self_hit / count
        elif reduce == "mean":
            ctx.self_weight = 1.0 / count
        if not include_self:
            if ctx.self_weight is None:
                ctx.self_weight = np.ones(x.shape, x.dtype)
            ctx.self_weight[where] = 0
        if reduce != "sum":
            ctx.share = 1.0 / count
        return out

    @staticmethod
    def backward(ctx, g):
        dx = None
        if ctx.needs_input_grad[0]:
            dx = g if ctx.self_weight is None else g * ctx.self_weight
        dsrc = None
        if ctx.needs_input_grad[1]:
            shared = g if ctx.share is None else g * ctx.share
            dsrc = _gather_back(shared, ctx.where, ctx.index, ctx.src_shape)
            if ctx.src_weight is not None:
                dsrc = dsrc * _pad_to(ctx.src_weight, ctx.index, ctx.src_shape)
        return dx, dsrc


def _identity(reduce: str, dtype: np.dtype) -> Any:
    """The value a reduction starts from: 0, or the lowest (amax) / highest (amin) value."""
    if reduce in ("sum", "mean"):
        return 0
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _pad_to(weight: np.ndarray, index: np.ndarray, src_shape: tuple[int, ...]) -> np.ndarray:
    """A constant of index's shape, zero-padded to `src`'s shape."""
    if weight.shape == tuple(src_shape):
        return weight
    out = np.zeros(src_shape, dtype=weight.dtype)
    out[_region(index)] = weight
    return out
