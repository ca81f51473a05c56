"""2-D convolution and pooling on NCHW arrays, as strided windows plus one batched GEMM.

Convolution's two backward products are themselves registered ops (``conv2d_input_grad`` and
``conv2d_weight_grad``), each the adjoint of ``conv2d`` in one argument, so the three close
under differentiation and grad-of-grad works through convolutions. Average pooling pairs with
``avg_pool2d_grad`` the same way; max pooling routes its gradient with ``index_add``.
No Python loop runs over pixels or channels; col2im loops over the kernel offsets, and
some batch-last copies over blocks of eight images.
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
    return _copy_batch_last(x, np.empty(x.shape[1:] + x.shape[:1], dtype=x.dtype))


def _copy_batch_last(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write the (N, C, H, W) array ``x`` into the (C, H, W, N) array ``out``; return ``out``."""
    if x.shape[0] < 16 or x.strides[0] % 1024:
        out[...] = x.transpose(1, 2, 3, 0)
        return out
    # Images a multiple of 1 KiB apart fall into the same cache sets, and a transposed copy,
    # which reads one value from every image in turn, keeps evicting them (4x slower for 64
    # images of 16x8x8, measured); eight images at a time stay in cache.
    for i in range(0, x.shape[0], 8):
        out[..., i:i + 8] = x[i:i + 8].transpose(1, 2, 3, 0)
    return out


def _batch_first(xt: np.ndarray, padding: Pair, hw: Pair) -> np.ndarray:
    """Padded batch-last (C, Hp, Wp, N) -> the cropped, contiguous (N, C, H, W)."""
    cropped = xt[:, padding[0]:padding[0] + hw[0], padding[1]:padding[1] + hw[1]]
    if hw[0] * hw[1] * xt.shape[3] < 2048:  # small channels: one copy, no Python loop
        return np.ascontiguousarray(cropped.transpose(3, 0, 1, 2))
    out = np.empty((xt.shape[3], xt.shape[0], *hw), dtype=xt.dtype)
    # One channel at a time: each channel's transpose stays in cache (1.2-2.3x faster than
    # one transposed copy of the whole array, measured from 8 to 256 channels).
    for c in range(xt.shape[0]):
        out[:, c] = cropped[c].transpose(2, 0, 1)
    return out


def output_hw(hw: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """Spatial output size of a convolution or pooling window."""
    return tuple((hw[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1
                 for d in range(2))  # type: ignore[return-value]


def _pad_hw(x: np.ndarray, padding: Pair, value: float = 0.0) -> np.ndarray:
    if padding == (0, 0):
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                  constant_values=value)


# Output rows up to this width take the batch-last im2col. An NCHW im2col copies each window
# row as a run of OW values, and numpy's per-run overhead dominates for short rows; over a
# batch-last (C, H, W, N) copy of the input a run holds OW * N values (for stride 1). Measured
# on the benchmark's shapes: 2x faster for 8-wide outputs, slower from about 14 wide on, where
# the extra transposes of the input and output cost more than the copy saves.
BATCH_LAST_MAX_WIDTH = 12


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
            groups: int) -> np.ndarray:
    """(N, C, H, W) -> (N, groups, C/groups*KH*KW, OH*OW): one GEMM operand per image and
    group, laid out so that the product with the weights is already NCHW."""
    n, c, h, w = x.shape
    oh, ow = output_hw((h, w), kernel, stride, padding, dilation)
    win = windows(_pad_hw(x, padding), kernel, stride, dilation, (oh, ow))
    win = win.transpose(0, 1, 4, 5, 2, 3)                    # N, C, KH, KW, OH, OW
    # (explicit sizes, not -1: numpy cannot infer an axis of an empty batch)
    return win.reshape(n, groups, c // groups * kernel[0] * kernel[1], oh * ow)


def _im2col_batch_last(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                       dilation: Pair, groups: int) -> np.ndarray:
    """(N, C, H, W) -> (groups, C/groups*KH*KW, OH*OW*N): all images in one GEMM operand."""
    n, c, h, w = x.shape
    oh, ow = output_hw((h, w), kernel, stride, padding, dilation)
    padded = np.zeros((c, h + 2 * padding[0], w + 2 * padding[1], n), dtype=x.dtype)
    _copy_batch_last(x, padded[:, padding[0]:padding[0] + h, padding[1]:padding[1] + w])
    win = windows(padded.transpose(3, 0, 1, 2), kernel, stride, dilation, (oh, ow))
    win = win.transpose(1, 4, 5, 2, 3, 0)                    # C, KH, KW, OH, OW, N
    return win.reshape(groups, c // groups * kernel[0] * kernel[1], oh * ow * n)


def _grouped(y: np.ndarray, groups: int) -> np.ndarray:
    """(N, O, OH, OW) -> (N, groups, O/groups, OH*OW), a view."""
    n, o, oh, ow = y.shape
    return y.reshape(n, groups, o // groups, oh * ow)


def conv_forward(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair, dilation: Pair,
                 groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlation of arrays: im2col, then one batched GEMM over the groups.

    Returns the output and the im2col matrix (reusable by :func:`weight_grad`), batch-last
    (3-D) for outputs at most ``BATCH_LAST_MAX_WIDTH`` wide, per image (4-D) otherwise."""
    n, o = x.shape[0], w.shape[0]
    oh, ow = output_hw(x.shape[2:], w.shape[2:], stride, padding, dilation)
    wmat = w.reshape(groups, o // groups, -1)                # G, Og, Cg*KH*KW
    if ow <= BATCH_LAST_MAX_WIDTH:
        cols = _im2col_batch_last(x, w.shape[2:], stride, padding, dilation, groups)
        out = (wmat @ cols).reshape(o, oh, ow, n)
        return np.ascontiguousarray(out.transpose(3, 0, 1, 2)), cols
    cols = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
    return (wmat @ cols).reshape(n, o, oh, ow), cols


def weight_grad(g: np.ndarray, cols: np.ndarray, w_shape: tuple[int, ...], groups: int,
                g_last: np.ndarray | None = None) -> np.ndarray:
    """dL/dw from the upstream gradient and the input's im2col matrix (either layout);
    ``g_last`` is ``_batch_last(g)`` if the caller has it already."""
    if cols.ndim == 3:  # batch-last: one GEMM over all images
        g_last = _batch_last(g) if g_last is None else g_last
        g_rows = g_last.reshape(groups, w_shape[0] // groups, cols.shape[2])  # G, Og, OH*OW*N
        return (g_rows @ cols.transpose(0, 2, 1)).reshape(w_shape)
    # (cols @ g^T, transposed after the sum, is 5-20% faster than g @ cols^T on OpenBLAS)
    per_image = cols @ _grouped(g, groups).transpose(0, 1, 3, 2)  # N, G, Cg*KH*KW, Og
    return per_image.sum(axis=0).transpose(0, 2, 1).reshape(w_shape)


def input_grad(g_last: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], stride: Pair,
               padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """dL/dx from the batch-last upstream gradient (O, OH, OW, N): one GEMM to the windows'
    entries, then col2im adds them back to their pixels."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    oh, ow = g_last.shape[1:3]
    wmat = w.reshape(groups, o // groups, -1)
    g_rows = g_last.reshape(groups, o // groups, oh * ow * n)  # G, Og, OH*OW*N
    cols = (wmat.transpose(0, 2, 1) @ g_rows).reshape(c, kh, kw, oh, ow, n)
    padded = (h + 2 * padding[0], wd + 2 * padding[1])
    return _batch_first(col2im(cols, padded, stride, dilation), padding, (h, wd))


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
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = Conv2dInputGrad.apply(g, w, x_shape=x.shape, **ctx.conf) if need_x else None
        gw = Conv2dWeightGrad.apply(x, g, w_shape=w.shape, **ctx.conf) if need_w else None
        return gx, gw

    @staticmethod
    def backward_arrays(ctx, g):
        """First-order passes reuse the forward's im2col columns for the weight gradient (the
        general backward rebuilds them) and transpose the gradient once for both products."""
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        # weight_grad makes its own batch-last copy if it needs one and the input gradient
        # did not.
        g_last = _batch_last(g) if need_x else None
        return (input_grad(g_last, w, x.shape, **ctx.conf) if need_x else None,
                weight_grad(g, ctx.cols, w.shape, ctx.conf["groups"], g_last) if need_w else None)


@register_op("conv2d_input_grad", nin=2, shape_rule="conv2d_input_grad", adjoint_of="conv2d")
class Conv2dInputGrad(Function):
    """z = conv2d's adjoint in x applied to g;  dz/dg = conv2d(., w),  dz/dw = conv2d_weight_grad"""

    @staticmethod
    def forward(ctx, g, w, x_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        ctx.save_for_backward(g, w)
        ctx.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return input_grad(_batch_last(g), w, x_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, u):
        g, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad
        gg = Conv2d.apply(u, w, **ctx.conf) if need_g else None
        gw = Conv2dWeightGrad.apply(u, g, w_shape=w.shape, **ctx.conf) if need_w else None
        return gg, gw


@register_op("conv2d_weight_grad", nin=2, shape_rule="conv2d_weight_grad",
             adjoint_of="conv2d")
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
    def backward(ctx, g):
        return (AvgPool2dGrad.apply(g, x_shape=ctx.shape, **ctx.conf),)


@register_op("avg_pool2d_grad", nin=1, shape_rule="avg_pool2d_grad", adjoint_of="avg_pool2d")
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
