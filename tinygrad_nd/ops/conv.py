"""2-D convolution and pooling on NCHW arrays, as strided windows plus one batched GEMM.

Convolution's two backward products are themselves registered ops (``conv2d_input_grad`` and
``conv2d_weight_grad``), each the adjoint of ``conv2d`` in one argument, so the three close
under differentiation and grad-of-grad works through convolutions. Average pooling pairs with
``avg_pool2d_grad`` the same way; max pooling routes its gradient with ``index_add``.
No Python loop runs over pixels or channels; col2im loops over the kernel offsets only.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..registry import register_op
from .movement import IndexAdd

Pair = tuple[int, int]


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """View of a padded (N, C, H, W) array as (N, C, OH, OW, KH, KW) windows (no copy)."""
    n, c, _, _ = xp.shape
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, (n, c, *out_hw, *kernel),
                      (sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
                      writeable=False)


def col2im(cols: np.ndarray, padded_hw: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """Adjoint of :func:`windows`, on batch-last arrays: add each window entry back to its pixel.

    ``cols`` has the layout (C, KH, KW, OH, OW, N) and the result (C, Hp, Wp, N). Batch-last,
    because each kernel offset's block is then added in contiguous runs of OW * N values
    rather than OW (numpy's per-run overhead made the NCHW version twice as slow).
    """
    c, kh, kw, oh, ow, n = cols.shape
    out = np.zeros((c, *padded_hw, n), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            r, q = i * dilation[0], j * dilation[1]
            out[:, r:r + stride[0] * (oh - 1) + 1:stride[0],
                q:q + stride[1] * (ow - 1) + 1:stride[1]] += cols[:, i, j]
    return out


def _batch_last(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> contiguous (C, H, W, N)."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def _batch_first(xt: np.ndarray, padding: Pair, hw: Pair) -> np.ndarray:
    """Padded batch-last (C, Hp, Wp, N) -> the cropped, contiguous (N, C, H, W)."""
    cropped = xt[:, padding[0]:padding[0] + hw[0], padding[1]:padding[1] + hw[1]]
    return np.ascontiguousarray(cropped.transpose(3, 0, 1, 2))


def output_hw(hw: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """Spatial output size of a convolution or pooling window."""
    return tuple((hw[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1
                 for d in range(2))  # type: ignore[return-value]


def _pad_hw(x: np.ndarray, padding: Pair, value: float = 0.0) -> np.ndarray:
    if padding == (0, 0):
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                  constant_values=value)


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
            groups: int) -> np.ndarray:
    """(N, C, H, W) -> (N, groups, C/groups*KH*KW, OH*OW): one GEMM operand per image and
    group, laid out so that the product with the weights is already NCHW."""
    n, c, h, w = x.shape
    oh, ow = output_hw((h, w), kernel, stride, padding, dilation)
    win = windows(_pad_hw(x, padding), kernel, stride, dilation, (oh, ow))
    win = win.transpose(0, 1, 4, 5, 2, 3)                    # N, C, KH, KW, OH, OW
    return win.reshape(n, groups, -1, oh * ow)


def _grouped(y: np.ndarray, groups: int) -> np.ndarray:
    """(N, O, OH, OW) -> (N, groups, O/groups, OH*OW), a view."""
    n, o, oh, ow = y.shape
    return y.reshape(n, groups, o // groups, oh * ow)


def conv_forward(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair, dilation: Pair,
                 groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlation of arrays: im2col, then one batched GEMM over the groups.
    Returns the output and the im2col matrix (reusable for the weight gradient)."""
    oh, ow = output_hw(x.shape[2:], w.shape[2:], stride, padding, dilation)
    cols = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
    wmat = w.reshape(groups, w.shape[0] // groups, -1)       # G, Og, Cg*KH*KW
    return (wmat @ cols).reshape(x.shape[0], w.shape[0], oh, ow), cols


def weight_grad(g: np.ndarray, cols: np.ndarray, w_shape: tuple[int, ...],
                groups: int) -> np.ndarray:
    """dL/dw from the upstream gradient and the input's im2col matrix."""
    per_image = _grouped(g, groups) @ cols.transpose(0, 1, 3, 2)  # N, G, Og, Cg*KH*KW
    return per_image.sum(axis=0).reshape(w_shape)


@register_op("conv2d", nin=2, shape_rule="conv2d")
class Conv2d(Function):
    """y = x (*) w (cross-correlation);  dy/dx = conv2d_input_grad,  dy/dw = conv2d_weight_grad"""

    @staticmethod
    def forward(ctx, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        ctx.save_for_backward(x, w)
        ctx.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        out, cols = conv_forward(x, w, stride, padding, dilation, groups)
        if ctx.recording:  # reused by the usual (first-order) weight gradient
            ctx.cols = cols
        return out

    @staticmethod
    def backward_arrays(ctx, g):
        x, w = ctx.saved_arrays
        need_x, need_w = ctx.needs_input_grad
        return (Conv2dInputGrad.on_arrays(g, w, x_shape=x.shape, **ctx.conf) if need_x else None,
                weight_grad(g, ctx.cols, w.shape, ctx.conf["groups"]) if need_w else None)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = Conv2dInputGrad.apply(g, w, x_shape=x.shape, **ctx.conf) if need_x else None
        gw = Conv2dWeightGrad.apply(x, g, w_shape=w.shape, **ctx.conf) if need_w else None
        return gx, gw


@register_op("conv2d_input_grad", nin=2, shape_rule="conv2d_input_grad")
class Conv2dInputGrad(Function):
    """z = conv2d's adjoint in x applied to g;  dz/dg = conv2d(., w),  dz/dw = conv2d_weight_grad"""

    @staticmethod
    def forward(ctx, g, w, x_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        ctx.save_for_backward(g, w)
        ctx.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        n, c, h, wd = x_shape
        o, _, kh, kw = w.shape
        oh, ow = g.shape[2:]
        wmat = w.reshape(groups, o // groups, -1)
        g_last = _batch_last(g).reshape(groups, o // groups, -1)  # G, Og, OH*OW*N
        cols = (wmat.transpose(0, 2, 1) @ g_last).reshape(c, kh, kw, oh, ow, n)
        padded = (h + 2 * padding[0], wd + 2 * padding[1])
        return _batch_first(col2im(cols, padded, stride, dilation), padding, (h, wd))

    @staticmethod
    def backward(ctx, u):
        g, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad
        gg = Conv2d.apply(u, w, **ctx.conf) if need_g else None
        gw = Conv2dWeightGrad.apply(u, g, w_shape=w.shape, **ctx.conf) if need_w else None
        return gg, gw


@register_op("conv2d_weight_grad", nin=2, shape_rule="conv2d_weight_grad")
class Conv2dWeightGrad(Function):
    """z = conv2d's adjoint in w applied to g;  dz/dx = conv2d_input_grad,  dz/dg = conv2d(x, .)"""

    @staticmethod
    def forward(ctx, x, g, w_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        ctx.save_for_backward(x, g)
        ctx.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        cols = _im2col(x, w_shape[2:], stride, padding, dilation, groups)
        return weight_grad(g, cols, w_shape, groups)

    @staticmethod
    def backward(ctx, v):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        gx = Conv2dInputGrad.apply(g, v, x_shape=x.shape, **ctx.conf) if need_x else None
        gg = Conv2d.apply(x, v, **ctx.conf) if need_g else None
        return gx, gg


@functools.lru_cache(maxsize=8)
def _window_origins(shape: tuple[int, ...], out_hw: Pair, stride: Pair,
                    padding: Pair) -> np.ndarray:
    """Flat index in x of each window's top-left pixel, (N, C, OH, OW), read-only.

    Cached: it depends on shapes alone, a training loop asks for the same few every step, and
    building it costs ~150 us for a (64, 8, 24, 24) input, a third of the pooling itself.
    """
    n, c, h, w = shape
    oh, ow = out_hw
    origin = ((np.arange(n * c).reshape(n, c, 1, 1) * h
               + np.arange(oh).reshape(oh, 1) * stride[0] - padding[0]) * w
              + np.arange(ow) * stride[1] - padding[1])
    origin.flags.writeable = False
    return origin


@register_op("max_pool2d", nin=1, shape_rule="pool2d")
class MaxPool2d(Function):
    """y = max over each window;  dy/dx = 1 at the window's first arg-max (as PyTorch), else 0"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1)):
        oh, ow = output_hw(x.shape[2:], kernel_size, stride, padding, dilation)
        win = windows(_pad_hw(x, padding, -np.inf), kernel_size, stride, dilation, (oh, ow))
        # One vectorised pass per kernel offset (no per-window argmax): the running maximum,
        # then, only if a backward may follow, the first offset attaining it (PyTorch's
        # choice on ties) as a small integer per window.
        kh, kw = kernel_size
        views = [win[:, :, :, :, k // kw, k % kw] for k in range(kh * kw)]
        out = views[0].copy()
        for v in views[1:]:
            np.maximum(out, v, out=out)
        if ctx.recording:
            offset_type = np.min_scalar_type(-len(views)).type  # int8 for up to 128 offsets
            arg = np.zeros(out.shape, dtype=offset_type)
            found = views[0] == out
            for k, v in enumerate(views[1:], start=1):
                first = np.equal(v, out)
                np.greater(first, found, out=first)  # attains the max, no earlier offset did
                arg += first * offset_type(k)
                found |= first
            ctx.arg = arg
        ctx.conf = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                        dilation=dilation)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward_arrays(ctx, g):
        flat = IndexAdd.on_arrays(g.reshape(-1), index=_winners(ctx, g.shape[2:]),
                                  shape=(int(np.prod(ctx.shape)),))
        return (flat.reshape(ctx.shape),)

    @staticmethod
    def backward(ctx, g):
        flat = IndexAdd.apply(g.reshape(-1), index=_winners(ctx, g.shape[2:]),
                              shape=(int(np.prod(ctx.shape)),))
        return (flat.reshape(ctx.shape),)


def _winners(ctx, out_hw: Pair) -> tuple[np.ndarray]:
    """Flat index in x of each window's winner (window origin plus the winning offset), where
    max-pool's gradient is scattered."""
    kernel, dilation = ctx.conf["kernel_size"], ctx.conf["dilation"]
    width = ctx.shape[3]
    origin = _window_origins(ctx.shape, out_hw, ctx.conf["stride"], ctx.conf["padding"])
    offsets = np.array([(k // kernel[1]) * dilation[0] * width + (k % kernel[1]) * dilation[1]
                        for k in range(kernel[0] * kernel[1])])
    return ((origin + offsets[ctx.arg]).reshape(-1),)


@register_op("avg_pool2d", nin=1, shape_rule="pool2d")
class AvgPool2d(Function):
    """y = mean over each window (padding counted);  dy/dx = avg_pool2d_grad"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding=(0, 0)):
        ctx.conf = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        ctx.shape = x.shape
        oh, ow = output_hw(x.shape[2:], kernel_size, stride, padding, (1, 1))
        win = windows(_pad_hw(x, padding), kernel_size, stride, (1, 1), (oh, ow))
        return win.mean(axis=(-2, -1)).astype(x.dtype, copy=False)

    @staticmethod
    def backward_arrays(ctx, g):
        return (AvgPool2dGrad.on_arrays(g, x_shape=ctx.shape, **ctx.conf),)

    @staticmethod
    def backward(ctx, g):
        return (AvgPool2dGrad.apply(g, x_shape=ctx.shape, **ctx.conf),)


@register_op("avg_pool2d_grad", nin=1, shape_rule="avg_pool2d_grad")
class AvgPool2dGrad(Function):
    """z = adjoint of avg_pool2d applied to g (spreads g/k over each window);  dz/dg = avg_pool2d"""

    @staticmethod
    def forward(ctx, g, x_shape, kernel_size, stride, padding=(0, 0)):
        ctx.conf = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        h, w = x_shape[2:]
        scale = 1.0 / (kernel_size[0] * kernel_size[1])
        g_last = _batch_last(g * scale)                       # C, OH, OW, N
        cols = np.broadcast_to(g_last[:, None, None], g_last.shape[:1] + tuple(kernel_size)
                               + g_last.shape[1:])
        padded = (h + 2 * padding[0], w + 2 * padding[1])
        return _batch_first(col2im(cols, padded, stride, (1, 1)), padding, (h, w))

    @staticmethod
    def backward(ctx, u):
        return (AvgPool2d.apply(u, **ctx.conf),)
