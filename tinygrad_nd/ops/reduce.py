"""Reductions over axes. Backwards broadcast the gradient back over the reduced axes."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..registry import register_op
from ..tensor import Tensor
from ._util import const, normalize_axes
from .movement import Expand, Reshape

REDUCE_PARAMS = {"keepdims": (False, True)}


def _spread(g: Tensor, input_shape: tuple[int, ...], axes: tuple[int, ...],
            keepdims: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape."""
    if not is_grad_enabled():  # first order: nothing to record
        kept = g.data
        if not keepdims and kept.ndim:  # (a 0-d gradient broadcasts as it is)
            kept = kept.reshape(tuple(1 if i in axes else s for i, s in enumerate(input_shape)))
        # A filled array, not np.broadcast_to: that costs ~3 us of Python per call, and
        # a read-only view would be copied anyway before it lands in a leaf's .grad.
        spread = np.empty(input_shape, dtype=kept.dtype)
        spread[...] = kept
        return const(spread)
    if not keepdims:
        g = Reshape.apply(g, shape=tuple(1 if i in axes else s for i, s in enumerate(input_shape)))
    return Expand.apply(g, shape=input_shape)


@register_op("sum", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims))
class Sum(Function):
    """z = sum x over axes;  dz/dx = 1 (the gradient is broadcast back)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, "sum"), keepdims, x.shape
        return x.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return (_spread(g, ctx.shape, ctx.axes, ctx.keepdims),)


@register_op("mean", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims))
class Mean(Function):
    """z = mean x over axes;  dz/dx = 1/n"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, "mean"), keepdims, x.shape
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes]))
        if ctx.count == 0:
            raise ValueError(f"mean: cannot average over zero elements (shape {x.shape}, "
                             f"axis {axis})")
        return np.mean(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return (_spread(g, ctx.shape, ctx.axes, ctx.keepdims) * (1.0 / ctx.count),)


class _Extremum(Function):
    """Shared forward/backward of max and min; subclasses set ``pick``."""

    pick = staticmethod(np.max)

    @staticmethod
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
        return (_spread(g, ctx.shape, ctx.axes, ctx.keepdims) * const(ctx.share),)


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
