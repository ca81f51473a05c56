"""Reductions over axes. Backwards broadcast the gradient back over the reduced axes."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ..tensor import Tensor
from ._util import normalize_axes, quiet
from .movement import Expand

REDUCE_PARAMS = {"keepdims": (False, True)}


def _kept_shape(ctx) -> tuple[int, ...]:
    """The input's shape with the reduced axes kept as 1s."""
    return tuple(1 if i in ctx.axes else s for i, s in enumerate(ctx.shape))


def _spread(ctx, g):
    """Broadcast a reduced gradient back to the input's shape: a fresh array in a first-order
    pass, the recorded expand op on a Tensor."""
    if not ctx.keepdims and g.ndim:  # (a 0-d gradient broadcasts as it is)
        g = g.reshape(_kept_shape(ctx))
    if isinstance(g, Tensor):
        return Expand.apply(g, shape=ctx.shape)
    # A filled array, not np.broadcast_to: a read-only view would be copied anyway before it
    # lands in a leaf's .grad, and this is cheaper (see docs/performance.md).
    spread = np.empty(ctx.shape, dtype=g.dtype)
    spread[...] = g
    return spread


@register_op("sum", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims))
class Sum(Function):
    """z = sum x over axes;  dz/dx = 1 (the gradient is broadcast back)"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf + -inf: nan, silent in PyTorch)
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, "sum"), keepdims, x.shape
        return x.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return (_spread(ctx, g),)


@register_op("mean", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims))
class Mean(Function):
    """z = mean x over axes;  dz/dx = 1/n (nan over zero elements, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, "mean"), keepdims, x.shape
        count = int(np.prod([x.shape[a] for a in ctx.axes]))
        if count == 0:
            # The mean of nothing is nan, as in PyTorch (numpy would warn "Mean of empty
            # slice"); the gradient, like the input, is empty.
            ctx.scale = np.nan
            total = np.sum(x, axis=ctx.axes, keepdims=keepdims)
            return np.full(np.shape(total), np.nan, dtype=np.result_type(total, np.float16))
        ctx.scale = 1.0 / count
        return np.mean(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        spread = _spread(ctx, g)
        spread *= ctx.scale  # (in place on the fresh array; a new product on Tensors)
        return (spread,)


class _Extremum(Function):
    """Shared forward/backward of max and min; subclasses set ``pick``."""

    pick = staticmethod(np.max)

    @staticmethod
    @quiet(invalid="ignore")  # (NaN input: no winner, 0/0 shares, silent in PyTorch)
    def forward(ctx, x, axis=None, keepdims=False):
        name = ctx.function.op_name
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, name), keepdims, x.shape
        if x.size == 0:
            raise ValueError(f"{name}: reduction over an empty tensor (shape {x.shape})")
        kept = ctx.function.pick(x, axis=ctx.axes, keepdims=True)
        winners = x == kept
        # Tied extrema share the gradient equally, which is also what central differences see.
        ctx.share = winners / winners.sum(axis=ctx.axes, keepdims=True).astype(x.dtype)
        return kept if keepdims else kept.reshape([s for i, s in enumerate(x.shape)
                                                    if i not in ctx.axes])

    @staticmethod
    def backward(ctx, g):
        spread = _spread(ctx, g)
        spread *= ctx.share  # (in place on the fresh array; a new product on Tensors)
        return (spread,)


@register_op("max", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
class Max(_Extremum):
    """z = max x over axes;  dz/dx = 1 at the maximum (shared equally between ties), else 0"""

    pick = staticmethod(np.max)


@register_op("min", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))
class Min(_Extremum):
    """z = min x over axes;  dz/dx = 1 at the minimum (shared equally between ties), else 0"""

    pick = staticmethod(np.min)
