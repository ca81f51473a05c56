"""N-d max and average pooling on (N, C, *spatial) arrays, over strided windows.

Average pooling pairs with `avg_pool_grad` (its adjoint, registered so grad-of-grad works);
max pooling routes its gradient with `index_add` to each window's first arg-max. Both take
the spatial rank from the input, and PyTorch's `ceil_mode` as extra padding after the end.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from ..autograd import Function
from ..registry import register_op
from .conv import Dims, _batch_first, _batch_last, col2im, pad_spatial, windows
from .movement import IndexAdd


def pool_output_size(size: Dims, kernel: Dims, stride: Dims, padding: Dims, dilation: Dims,
                     ceil_mode: bool = False) -> Dims:
    """Spatial output size of a pooling window, PyTorch's rule: in `ceil_mode` a last,
    partial window is kept if it starts inside the input or its left padding.

    Parameters
    ----------
    size : tuple of int
        The input's spatial size.
    kernel, stride, padding, dilation : tuple of int
        The window's settings per spatial axis.
    ceil_mode : bool, default False
        Round up (keeping a last partial window by the rule above) instead of down.
    """
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(o)
    return tuple(out)


def pool_conf(kernel_size: Dims, stride: Dims, padding: Dims, ceil_mode: bool,
              **extra: Any) -> dict[str, Any]:
    """The settings a pooling op keeps in `ctx.conf` and passes to its adjoint.

    Parameters
    ----------
    kernel_size, stride, padding : tuple of int
        The window's settings per spatial axis.
    ceil_mode : bool
        Whether output sizes round up.
    **extra
        Further settings kept as they are (`dilation`, `count_include_pad`).
    """
    return dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                **extra)


def _padded_windows(x: np.ndarray, kernel: Dims, stride: Dims, padding: Dims, dilation: Dims,
                    ceil_mode: bool, value: float) -> np.ndarray:
    """(N, C, *out, *kernel) windows over `x` padded with `value` (and, in ceil mode, as
    much more after the end as the last window overhangs)."""
    out = pool_output_size(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    after = _overhang(x.shape[2:], out, kernel, stride, padding, dilation)
    return windows(pad_spatial(x, padding, after, value), kernel, stride, dilation, out)


def _overhang(size: Dims, out: Dims, kernel: Dims, stride: Dims, padding: Dims,
              dilation: Dims) -> Dims:
    """Padding after each axis: its own padding plus what a ceil-mode last window needs."""
    return tuple(max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
                 for n, o, k, s, p, d in zip(size, out, kernel, stride, padding, dilation))


def max_and_arg(x: np.ndarray, kernel: Dims, stride: Dims, padding: Dims, dilation: Dims,
                ceil_mode: bool, with_arg: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Each window's maximum and, if `with_arg`, the first kernel offset (C order) that
    attains it (PyTorch's choice on ties), as a small integer per window.

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial)
        The input.
    kernel, stride, padding, dilation : tuple of int
        The window's settings per spatial axis (padding is -inf).
    ceil_mode : bool
        Whether output sizes round up.
    with_arg : bool
        Also return the winning offsets (else None in their place).
    """
    win = _padded_windows(x, kernel, stride, padding, dilation, ceil_mode, -np.inf)
    # One vectorised pass per kernel offset (no per-window argmax).
    views = [win[(Ellipsis,) + k] for k in itertools.product(*(range(k) for k in kernel))]
    out = views[0].copy()
    for v in views[1:]:
        np.maximum(out, v, out=out)
    if not with_arg:
        return out, None
    offset_type = np.min_scalar_type(-len(views)).type  # int8 for up to 128 offsets
    arg = np.zeros(out.shape, dtype=offset_type)
    found = views[0] == out
    for k, v in enumerate(views[1:], start=1):
        first = np.equal(v, out)
        np.greater(first, found, out=first)  # attains the max, no earlier offset did
        arg += first * offset_type(k)
        found |= first
    return out, arg


@functools.lru_cache(maxsize=8)
def _window_origins(shape: Dims, out: Dims, stride: Dims, padding: Dims) -> np.ndarray:
    """Flat index in x of each window's first pixel, (N, C, *out), read-only.

    Cached: it depends on shapes alone, and a training loop asks for the same few every step.
    """
    size = shape[2:]
    origin = np.arange(shape[0] * shape[1]).reshape(shape[:2] + (1,) * len(out))
    for d, (n, o, s, p) in enumerate(zip(size, out, stride, padding)):
        axis = np.arange(o) * s - p
        origin = origin * n + axis.reshape((o,) + (1,) * (len(out) - 1 - d))
    origin.flags.writeable = False
    return origin


def window_winners(arg: np.ndarray, shape: Dims, kernel: Dims, stride: Dims, padding: Dims,
                   dilation: Dims) -> tuple[np.ndarray, np.ndarray | None]:
    """Flat index in an array of `shape` of each window's winner (origin plus the winning
    kernel offset), (N, C, *out): where max pooling's gradient goes. With padding, also a
    mask of the winners inside the input (`None` without): a dilated window can hold only
    padding, and its gradient then goes nowhere, as in PyTorch.

    Parameters
    ----------
    arg : ndarray, shape (N, C, *out)
        Each window's winning kernel offset, from `max_and_arg`.
    shape : tuple of int
        The input's shape (N, C, *spatial).
    kernel, stride, padding, dilation : tuple of int
        The window's settings per spatial axis.
    """
    size = shape[2:]
    row = np.cumprod((1,) + tuple(size[:0:-1]))[::-1]      # flat step of each spatial axis
    offsets = np.array([sum(i * d * r for i, d, r in zip(k, dilation, row))
                        for k in itertools.product(*(range(k) for k in kernel))])
    index = _window_origins(shape, arg.shape[2:], stride, padding) + offsets[arg]
    if not any(padding):
        return index, None
    valid = np.ones(arg.shape, dtype=bool)
    for d, k in enumerate(np.unravel_index(arg, kernel)):
        o = arg.shape[2 + d]
        at = (np.arange(o) * stride[d] - padding[d]).reshape((o,) + (1,) * (len(kernel) - 1 - d))
        coord = at + k * dilation[d]
        valid &= (coord >= 0) & (coord < size[d])
    return (index, None) if valid.all() else (np.where(valid, index, 0), valid)


@register_op("max_pool", nin=1, shape_rule="pool")
class MaxPool(Function):
    """y = max over each window;  dy/dx = 1 at the window's first arg-max (as PyTorch), else 0"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode=False):
        out, arg = max_and_arg(x, kernel_size, stride, padding, dilation, ceil_mode,
                               ctx.recording)
        ctx.arg, ctx.shape, ctx.dtype = arg, x.shape, x.dtype
        ctx.conf = pool_conf(kernel_size, stride, padding, ceil_mode, dilation=dilation)
        return out

    @staticmethod
    def backward(ctx, g):
        c = ctx.conf
        index, valid = window_winners(ctx.arg, ctx.shape, c["kernel_size"], c["stride"],
                                      c["padding"], c["dilation"])
        if valid is not None:
            g = g * valid.astype(ctx.dtype)
        flat = IndexAdd.apply(g.reshape(-1), index=(index.reshape(-1),),
                              shape=(int(np.prod(ctx.shape)),))
        return (flat.reshape(ctx.shape),)


@functools.lru_cache(maxsize=8)
def avg_divisor(size: Dims, kernel: Dims, stride: Dims, padding: Dims, ceil_mode: bool,
                count_include_pad: bool) -> Any:
    """What each window's sum is divided by, PyTorch's rule: the window clipped to the padded
    input (or, without `count_include_pad`, to the input itself). One number when all
    windows agree, else an array of the output's spatial shape.

    Parameters
    ----------
    size : tuple of int
        The input's spatial size.
    kernel, stride, padding : tuple of int
        The window's settings per spatial axis.
    ceil_mode : bool
        Whether output sizes round up.
    count_include_pad : bool
        Count the zero padding in the divisor.
    """
    ones = (1,) * len(size)
    out = pool_output_size(size, kernel, stride, padding, ones, ceil_mode)
    divisor = np.ones(out)
    for d, (n, o, k, s, p) in enumerate(zip(size, out, kernel, stride, padding)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        divisor = divisor * (end - start).reshape((o,) + (1,) * (len(out) - 1 - d))
    if divisor.size and (divisor == divisor.flat[0]).all():
        return float(divisor.flat[0])
    divisor.flags.writeable = False
    return divisor


@register_op("avg_pool", nin=1, shape_rule="pool")
class AvgPool(Function):
    """y = mean over each window;  dy/dx = avg_pool_grad"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True):
        ctx.conf = pool_conf(kernel_size, stride, padding, ceil_mode,
                             count_include_pad=count_include_pad)
        ctx.shape = x.shape
        d = len(kernel_size)
        win = _padded_windows(x, kernel_size, stride, padding, (1,) * d, ceil_mode, 0.0)
        total = win.sum(axis=tuple(range(-d, 0)))
        divisor = avg_divisor(x.shape[2:], kernel_size, stride, padding, ceil_mode,
                              count_include_pad)
        return (total / divisor).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return (AvgPoolGrad.apply(g, x_shape=ctx.shape, **ctx.conf),)


@register_op("avg_pool_grad", nin=1, shape_rule="avg_pool_grad", adjoint_of="avg_pool")
class AvgPoolGrad(Function):
    """z = adjoint of avg_pool at g (spreads g/count over each window);  dz/dg = avg_pool"""

    @staticmethod
    def forward(ctx, g, x_shape, kernel_size, stride, padding, ceil_mode=False,
                count_include_pad=True):
        ctx.conf = pool_conf(kernel_size, stride, padding, ceil_mode,
                             count_include_pad=count_include_pad)
        size, d = tuple(x_shape[2:]), len(kernel_size)
        divisor = avg_divisor(size, kernel_size, stride, padding, ceil_mode, count_include_pad)
        g_last = _batch_last((g / divisor).astype(g.dtype, copy=False))   # C, *out, N
        cols = np.broadcast_to(g_last[(slice(None),) + (None,) * d],
                               g_last.shape[:1] + tuple(kernel_size) + g_last.shape[1:])
        after = _overhang(size, g.shape[2:], kernel_size, stride, padding, (1,) * d)
        padded = tuple(n + p + a for n, p, a in zip(size, padding, after))
        return _batch_first(col2im(cols, padded, stride, (1,) * d), padding, size)

    @staticmethod
    def backward(ctx, u):
        return (AvgPool.apply(u, **ctx.conf),)
