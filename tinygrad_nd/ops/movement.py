"""Shape and indexing ops. Each backward is another movement op, so all are twice differentiable."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..engine import unbroadcast
from ..registry import register_op
from ._util import permute


def _is_basic_index(index: tuple[Any, ...]) -> bool:
    """Basic indices (ints, slices, None, ...) never select an element twice."""
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in index)


@register_op("reshape", nin=1, shape_rule="reshape",
             reference=lambda x, shape: np.reshape(x, shape))
class Reshape(Function):
    """z = x with a new shape;  dz/dx: the gradient reshaped back"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(ctx.shape),)


@register_op("permute", nin=1, shape_rule="permute",
             reference=lambda x, axes: np.transpose(x, axes))
class Permute(Function):
    """z = x with axes reordered;  dz/dx: the gradient with the inverse order"""

    @staticmethod
    def forward(ctx, x, axes):
        inverse = [-1] * x.ndim
        for position, a in enumerate(axes):
            if len(axes) != x.ndim or not -x.ndim <= a < x.ndim or inverse[a] != -1:
                raise ValueError(f"permute: axes {tuple(axes)} are not a permutation of the "
                                 f"{x.ndim} axes of a tensor of shape {x.shape}")
            inverse[a] = position
        ctx.inverse = tuple(inverse)
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return (permute(g, ctx.inverse),)


@register_op("expand", nin=1, shape_rule="expand",
             reference=lambda x, shape: np.broadcast_to(x, shape))
class Expand(Function):
    """z = x broadcast to a shape;  dz/dx: the gradient summed over the broadcast axes"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot broadcast a tensor of shape {x.shape} to "
                             f"{tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return (unbroadcast(g, ctx.shape, "expand"),)


@register_op("getitem", nin=1, shape_rule="getitem",
             reference=lambda x, index: x[index])
class GetItem(Function):
    """z = x[index];  dz/dx: the gradient scattered back, repeats adding up"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape = index, x.shape
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from None

    @staticmethod
    def backward(ctx, g):
        return (IndexAdd.apply(g, index=ctx.index, shape=ctx.shape),)


@register_op("index_add", nin=1, shape_rule="index_add", adjoint_of="getitem")
class IndexAdd(Function):
    """z = zeros(shape) with z[index] += x (the adjoint of getitem);  dz/dx: gradient[index]"""

    @staticmethod
    def forward(ctx, x, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic_index(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, g):
        return (GetItem.apply(g, index=ctx.index),)


@register_op("cat", nin=None, shape_rule="cat",
             reference=lambda *xs, axis: np.concatenate(xs, axis=axis))
class Cat(Function):
    """z = the inputs joined along an axis;  dz/dx_i: the matching slice of the gradient"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("cat: expected at least one tensor")
        try:
            out = np.concatenate(xs, axis=axis)
        except (ValueError, np.exceptions.AxisError):
            raise ValueError(f"cat: tensors must have the same shape except along axis {axis}; "
                             f"got shapes {[x.shape for x in xs]}") from None
        ctx.axis = axis % out.ndim
        ctx.bounds = np.cumsum([0] + [x.shape[ctx.axis] for x in xs])
        return out

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.axis
        return tuple(g[lead + (slice(int(a), int(b)),)] if need else None
                     for a, b, need in zip(ctx.bounds[:-1], ctx.bounds[1:], ctx.needs_input_grad))


# numpy's names: "edge" is PyTorch's "replicate", "wrap" its "circular"
PAD_MODES = ("constant", "reflect", "edge", "wrap")


def _numpy_pad(x: np.ndarray, pad_width: Any, value: float = 0.0,
               mode: str = "constant") -> np.ndarray:
    if mode == "constant":
        return np.pad(x, pad_width, constant_values=value)
    return np.pad(x, pad_width, mode=mode)


@register_op("pad", nin=1, shape_rule="pad", params={"value": (0.0, 1.5), "mode": PAD_MODES},
             reference=_numpy_pad)
class Pad(Function):
    """z = x padded with a constant or with copies of x's own entries (reflect, edge, wrap);
    dz/dx: the gradient's interior, plus each copy's gradient added back where it came from"""

    @staticmethod
    def forward(ctx, x, pad_width, value=0.0, mode="constant"):
        if mode not in PAD_MODES:
            raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
        for d, ((lo, hi), n) in enumerate(zip(pad_width, x.shape)):
            # PyTorch's limits (numpy would reflect or wrap repeatedly)
            limit = {"constant": None, "reflect": n - 1, "edge": None if n else 0, "wrap": n}[mode]
            if limit is not None and max(lo, hi) > limit:
                raise ValueError(f"pad: widths ({lo}, {hi}) are too large for mode={mode!r} in "
                                 f"dimension {d} of size {n} (tensor of shape {x.shape})")
        ctx.pad_width, ctx.mode, ctx.shape = pad_width, mode, x.shape
        return _numpy_pad(x, pad_width, value, mode)

    @staticmethod
    def backward(ctx, g):
        if ctx.mode == "constant":
            return (g[tuple(slice(a, a + s) for (a, _), s in zip(ctx.pad_width, ctx.shape))],)
        # numpy pads one dim after the other (dim 0 first); undo them in reverse order
        for d in reversed(range(g.ndim)):
            lo, hi = ctx.pad_width[d]
            if lo or hi:
                g = _fold(g, d, lo, hi, ctx.shape[d], ctx.mode)
        return (g,)


def _fold(g: Any, d: int, lo: int, hi: int, n: int, mode: str) -> Any:
    """The gradient of dim `d` padded by (lo, hi) in `mode`, added back onto the `n`
    entries the padding copied (an array or a recorded Tensor alike)."""
    def part(start: int, stop: int | None, step: int = 1) -> Any:
        return g[(slice(None),) * d + (slice(start, stop, step),)]

    def at(piece: Any, start: int) -> Any:  # `piece` placed at entries start.. of n
        width = [(0, 0)] * g.ndim
        width[d] = (start, n - start - piece.shape[d])
        return Pad.apply(piece, pad_width=tuple(width))

    out = part(lo, lo + n)
    if mode == "reflect":  # the left padding holds x[lo], ..., x[1]; the right x[n-2], ...
        left, left_at = part(lo - 1, None, -1), 1
        right, right_at = part(lo + n + hi - 1, lo + n - 1, -1), n - 1 - hi
    elif mode == "edge":  # every padded entry is a copy of the first or the last
        left, left_at = part(0, lo).sum(axis=d, keepdims=True), 0
        right, right_at = part(lo + n, None).sum(axis=d, keepdims=True), n - 1
    else:  # wrap: the left padding holds the last lo entries, the right the first hi
        left, left_at = part(0, lo), n - lo
        right, right_at = part(lo + n, None), 0
    if lo:
        out = out + at(left, left_at)
    if hi:
        out = out + at(right, right_at)
    return out
