"""Resampling functions of `nn.functional`: adaptive pooling, max-unpooling, interpolation.

All are composites of registered ops, so their gradients need no code of their own: averaging
and linear interpolation act on one axis at a time as a constant matrix (a `matmul`), and
nearest-neighbour sampling, adaptive max pooling and unpooling are gathers and scatters
(`getitem`, `index_add`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..functional import _is_int
from ..ops._util import const
from ..registry import apply
from ..tensor import Tensor
from .conv_functional import IntOrTuple, _check_bool, _check_input, _ntuple, _pool_args

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _along_axes(x: Tensor, matrices: Sequence[np.ndarray]) -> Tensor:
    """Apply the (out, in) matrix `matrices[d]` along spatial axis d of (N, C, *spatial)."""
    last = x.ndim - 1
    for d, m in enumerate(matrices):
        swap = list(range(x.ndim))
        swap[2 + d], swap[last] = last, 2 + d
        moved = x if 2 + d == last else x.permute(tuple(swap))
        moved = moved @ const(np.ascontiguousarray(m.T, dtype=x.dtype))
        x = moved if 2 + d == last else moved.permute(tuple(swap))
    return x


def _on_grid(index: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per spatial axis d, its (out, k) positions shaped to broadcast as axes 2d, 2d + 1 of an
    (out_1, k_1, out_2, k_2, ...) grid."""
    dims = len(index)
    return tuple(i.reshape((1,) * 2 * d + i.shape + (1,) * 2 * (dims - 1 - d))
                 for d, i in enumerate(index))


def _gather(x: Tensor, index: Sequence[np.ndarray]) -> Tensor:
    """`x[:, :, ...]` at the (out, k) positions `index[d]` of each spatial axis d, as an
    (N, C, out_1, k_1, out_2, k_2, ...) tensor."""
    return x[(slice(None), slice(None)) + _on_grid(index)]


def _output_size(output_size: Any, size: Sequence[int], op: str) -> tuple[int, ...]:
    """`output_size` of an adaptive pooling, `None` entries keeping the input's size."""
    values = tuple(output_size) if isinstance(output_size, (tuple, list)) else \
        (output_size,) * len(size)
    values = tuple(s if v is None else v for v, s in zip(values, size)) \
        if len(values) == len(size) else values
    return _ntuple(values, len(size), "output_size", op)


def _adaptive_windows(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows over n positions: [floor(i n / out), ceil((i+1) n / out))."""
    i = np.arange(out)
    return i * n // out, -(-(i + 1) * n // out)


def _adaptive_avg(x: Tensor, output_size: Any, dims: int) -> Tensor:
    op = f"adaptive_avg_pool{dims}d"
    _check_input(x.shape, dims, op)
    out = _output_size(output_size, x.shape[2:], op)
    matrices = []
    for n, o in zip(x.shape[2:], out):
        start, end = _adaptive_windows(n, o)
        inside = (np.arange(n) >= start[:, None]) & (np.arange(n) < end[:, None])
        matrices.append(inside / (end - start)[:, None])
    return _along_axes(x, matrices)


def adaptive_avg_pool1d(input: Tensor, output_size: IntOrTuple) -> Tensor:
    """Mean over `output_size` windows that cover an (N, C, L) input (PyTorch's windows).

    Parameters
    ----------
    input : Tensor, shape (N, C, L)
        The input.
    output_size : int
        L_out, the number of windows (they may overlap or differ in size by one).
    """
    return _adaptive_avg(input, output_size, 1)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over an `output_size` grid of windows covering the (H, W) plane; an entry
    `None` keeps that axis's size.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
        The input.
    output_size : int, pair of int or None
        (H_out, W_out), an int for both; an entry None keeps that axis's size.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.adaptive_avg_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
    [[[[7.5]]]]
    """
    return _adaptive_avg(input, output_size, 2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False,
                        ) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over an `output_size` grid of windows covering the (H, W) plane; with
    `return_indices`, also each maximum's flat index in its plane (first on ties).

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
        The input.
    output_size : int, pair of int or None
        (H_out, W_out), an int for both; an entry None keeps that axis's size.
    return_indices : bool, default False
        Also return the indices (int64, the output's shape): the result is then
        `(output, indices)`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.adaptive_max_pool2d(tg.arange(9.0).reshape(1, 1, 3, 3), 2).tolist()
    [[[[4.0, 5.0], [7.0, 8.0]]]]
    """
    op, dims = "adaptive_max_pool2d", 2
    _check_input(input.shape, dims, op)
    size = input.shape[2:]
    out = _output_size(output_size, size, op)
    index = []
    for n, o in zip(size, out):
        start, end = _adaptive_windows(n, o)
        width = int((end - start).max()) if o else 1
        # Shorter windows repeat their last position: a repeat changes no maximum, and its
        # gradient share returns to the same element through getitem's backward.
        index.append(np.minimum(start[:, None] + np.arange(width), end[:, None] - 1))
    values = _gather(input, index)                          # N, C, o1, k1, o2, k2
    window_axes = tuple(range(3, 3 + 2 * dims, 2))
    # (the max op refuses empty tensors; an empty batch's result is empty either way)
    result = values.max(axis=window_axes) if values.size else values.sum(axis=window_axes)
    if not _check_bool(return_indices, "return_indices", op):
        return result
    flat = sum(i * int(np.prod(size[d + 1:])) for d, i in enumerate(_on_grid(index)))
    order = (0, 1) + tuple(range(2, 2 + 2 * dims, 2)) + tuple(range(3, 3 + 2 * dims, 2))
    data = values.data.transpose(order)
    flat = np.broadcast_to(flat, values.shape).transpose(order)
    data, flat = (a.reshape(a.shape[:2 + dims] + (-1,)) for a in (data, flat))
    best = np.argmax(data, axis=-1)[..., None]          # first maximum, as PyTorch
    return result, const(np.take_along_axis(flat, best, axis=-1)[..., 0].astype(np.int64))


def _max_unpool(x: Tensor, indices: Any, dims: int, kernel_size: IntOrTuple,
                stride: IntOrTuple | None, padding: IntOrTuple,
                output_size: Sequence[int] | None) -> Tensor:
    op = f"max_unpool{dims}d"
    _check_input(x.shape, dims, op)
    conf = _pool_args(kernel_size, stride, padding, dims, op)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu" or idx.shape != x.shape:
        raise ValueError(f"{op}: indices must be integers of the input's shape {x.shape}, got "
                         f"{idx.dtype} of shape {idx.shape}")
    if output_size is None:
        out = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                    zip(x.shape[2:], conf["stride"], conf["padding"], conf["kernel_size"]))
    else:
        out = tuple(output_size)[-dims:]
        if len(out) != dims or not all(_is_int(v) and v >= 0 for v in out):
            raise ValueError(f"{op}: output_size must give {dims} sizes, got {output_size!r}")
    plane = int(np.prod(out))
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise ValueError(f"{op}: indices must lie in [0, {plane}) for the output size {out}, "
                         f"got values from {idx.min()} to {idx.max()}")
    n, c = x.shape[:2]
    flat = idx + np.arange(n * c).reshape((n, c) + (1,) * dims) * plane
    flat = flat.reshape(-1)
    scattered = apply("index_add", x.reshape(-1), index=(flat,), shape=(n * c * plane,))
    if np.unique(flat).size < flat.size:
        # PyTorch assigns (a repeated index keeps one value: overlapping windows repeat a
        # maximum) and its gradient gathers (every repeat gets the output's gradient): the
        # index_add's gradient, with its sums replaced by the assigned values.
        assigned = np.zeros(n * c * plane, dtype=x.dtype)
        assigned[flat] = x.data.reshape(-1)
        scattered = scattered - const(scattered.data - assigned)
    return scattered.reshape((n, c) + out)


def max_unpool1d(input: Tensor, indices: Any, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """Inverse of `max_pool1d` with `return_indices`; see `max_unpool2d`.

    Parameters
    ----------
    input : Tensor, shape (N, C, L)
        The pooled values (the output of `max_pool1d`).
    indices : Tensor or array of int, the input's shape
        Each value's flat index within its output plane (`max_pool1d(...,
        return_indices=True)`); in [0, size of the plane).
    kernel_size : int or tuple of int
        The pooling's window size.
    stride : int or tuple of int, optional
        The pooling's stride; the kernel size by default.
    padding : int or tuple of int, default 0
        The pooling's padding.
    output_size : sequence of int, optional
        The output's spatial size (trailing entries of a full shape are accepted); by default
        `(in - 1) stride - 2 padding + kernel_size` per axis, which can be smaller than the
        pooled input when its size did not fit the windows exactly.
    """
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Any, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """Place each value at its flat index (as returned by `max_pool2d(...,
    return_indices=True)`) in a zero (H, W) plane; of repeated indices one value stays, and
    each repeat gets the output's gradient there, as in PyTorch.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
        The pooled values (the output of `max_pool2d`).
    indices : Tensor or array of int, the input's shape
        Each value's flat index within its output plane (`max_pool2d(...,
        return_indices=True)`); in [0, size of the plane).
    kernel_size : int or tuple of int
        The pooling's window size.
    stride : int or tuple of int, optional
        The pooling's stride; the kernel size by default.
    padding : int or tuple of int, default 0
        The pooling's padding.
    output_size : sequence of int, optional
        The output's spatial size (trailing entries of a full shape are accepted); by default
        `(in - 1) stride - 2 padding + kernel_size` per axis, which can be smaller than the
        pooled input when its size did not fit the windows exactly.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> y, i = F.max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2)[0, 0, 1].tolist()
    [0.0, 5.0, 0.0, 7.0]
    """
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Any, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """Inverse of `max_pool3d` with `return_indices`; see `max_unpool2d`.

    Parameters
    ----------
    input : Tensor, shape (N, C, D, H, W)
        The pooled values (the output of `max_pool3d`).
    indices : Tensor or array of int, the input's shape
        Each value's flat index within its output plane (`max_pool3d(...,
        return_indices=True)`); in [0, size of the plane).
    kernel_size : int or tuple of int
        The pooling's window size.
    stride : int or tuple of int, optional
        The pooling's stride; the kernel size by default.
    padding : int or tuple of int, default 0
        The pooling's padding.
    output_size : sequence of int, optional
        The output's spatial size (trailing entries of a full shape are accepted); by default
        `(in - 1) stride - 2 padding + kernel_size` per axis, which can be smaller than the
        pooled input when its size did not fit the windows exactly.
    """
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


def _interpolation_sizes(size: Sequence[int], out_size: Any, scale_factor: Any,
                         recompute: bool, op: str) -> tuple[tuple[int, ...], list[float | None]]:
    """Output sizes and, per axis, the scale PyTorch maps coordinates with when it is not
    in/out (a given `scale_factor` that is not recomputed)."""
    dims = len(size)
    if (out_size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if out_size is not None:
        return _ntuple(out_size, dims, "size", op), [None] * dims
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
        (scale_factor,) * dims
    if len(factors) != dims or not all(
            isinstance(f, (int, float, np.integer, np.floating)) and not isinstance(f, bool)
            and np.isfinite(f) and f > 0 for f in factors):
        raise ValueError(f"{op}: scale_factor must be a positive number or one per spatial "
                         f"axis ({dims}), got {scale_factor!r}")
    out = tuple(int(np.floor(n * float(f))) for n, f in zip(size, factors))
    return out, [None if recompute else 1.0 / float(f) for f in factors]


def _linear_matrix(n: int, o: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """(o, n) weights of PyTorch's linear interpolation along one axis."""
    dst = np.arange(o, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        src = np.maximum(((n / o) if scale is None else scale) * (dst + 0.5) - 0.5, 0.0)
    low = src.astype(np.int64)
    high = np.where(low < n - 1, low + 1, low)
    frac = src - low
    m = np.zeros((o, n))
    np.add.at(m, (np.arange(o), low), 1.0 - frac)
    np.add.at(m, (np.arange(o), high), frac)
    return m


def interpolate(input: Tensor, size: IntOrTuple | None = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Tensor:
    """Resample the spatial axes to `size` (or `scale_factor` times the input's), by
    `mode` `"nearest"` (any of 1-3 axes), `"linear"`, `"bilinear"` or
    `"trilinear"` (1, 2, 3 axes), PyTorch's coordinate rules included.

    Parameters
    ----------
    input : Tensor, shape (N, C, *spatial)
        1 to 3 spatial axes.
    size : int or tuple of int, optional
        The output's spatial size (an int for every axis); give this or `scale_factor`.
    scale_factor : float or tuple of float, optional
        The output's spatial size as a multiple of the input's (rounded down), per axis or
        one for all.
    mode : {"nearest", "linear", "bilinear", "trilinear"}, default "nearest"
        How values are resampled; the linear modes need 1, 2 and 3 spatial axes.
    align_corners : bool, optional
        Linear modes only: True maps the corner pixels' centres onto each other, False (the
        default) their outer edges, as in PyTorch.
    recompute_scale_factor : bool, optional
        With `scale_factor`, True recomputes the scale from the rounded sizes
        (output / input) for the coordinates; else `scale_factor` itself is used.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.interpolate(tg.Tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> F.interpolate(tg.Tensor([[[1.0, 2.0]]]), size=3, mode="linear",
    ...               align_corners=True).tolist()
    [[[1.0, 1.5, 2.0]]]
    """
    op, dims = "interpolate", input.ndim - 2
    if mode != "nearest" and mode not in _LINEAR_MODES:
        raise ValueError(f"{op}: mode must be one of 'nearest', 'linear', 'bilinear', "
                         f"'trilinear', got {mode!r}")
    if dims not in (1, 2, 3) or (mode in _LINEAR_MODES and _LINEAR_MODES[mode] != dims):
        raise ValueError(f"{op}: mode {mode!r} does not take an input of shape {input.shape}")
    if align_corners is not None and mode == "nearest":
        raise ValueError(f"{op}: align_corners can only be set with the linear modes")
    align = False if align_corners is None else _check_bool(align_corners, "align_corners", op)
    recompute = bool(recompute_scale_factor)
    out, scales = _interpolation_sizes(input.shape[2:], size, scale_factor, recompute, op)
    if mode == "nearest":
        index = [np.minimum(np.floor(np.arange(o) * (n / o if s is None else s)).astype(np.int64),
                            n - 1)[:, None] for n, o, s in zip(input.shape[2:], out, scales)]
        return _gather(input, index).reshape(input.shape[:2] + out)
    return _along_axes(input, [_linear_matrix(n, o, s, align)
                               for n, o, s in zip(input.shape[2:], out, scales)])
