"""2-D convolution and pooling on NCHW arrays, as strided windows plus one batched GEMM.

Convolution's two backward products are themselves registered ops (``conv2d_input_grad`` and
``conv2d_weight_grad``), each the adjoint of ``conv2d`` in one argument, so the three close
under differentiation and grad-of-grad works through convolutions. Average pooling pairs with
``avg_pool2d_grad`` the same way; max pooling routes its gradient with ``index_add``.
No Python loop runs over pixels or channels; col2im loops over the kernel offsets only.
"""

from __future__ import annotations

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
    """Adjoint of :func:`windows`: add each window entry back to its pixel."""
    n, c, oh, ow, kh, kw = cols.shape
    out = np.zeros((n, c, *padded_hw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            r, q = i * dilation[0], j * dilation[1]
            out[:, :, r:r + stride[0] * (oh - 1) + 1:stride[0],
                q:q + stride[1] * (ow - 1) + 1:stride[1]] += cols[:, :, :, :, i, j]
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


def _crop_hw(xp: np.ndarray, padding: Pair, hw: Pair) -> np.ndarray:
    return xp[:, :, padding[0]:padding[0] + hw[0], padding[1]:padding[1] + hw[1]]


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
            groups: int) -> np.ndarray:
    """(N, C, H, W) -> (groups, N*OH*OW, C/groups*KH*KW): one GEMM row per output pixel."""
    n, c, h, w = x.shape
    oh, ow = output_hw((h, w), kernel, stride, padding, dilation)
    win = windows(_pad_hw(x, padding), kernel, stride, dilation, (oh, ow))
    win = win.reshape(n, groups, c // groups, oh, ow, *kernel)
    return win.transpose(1, 0, 3, 4, 2, 5, 6).reshape(groups, n * oh * ow, -1)


def _rows(y: np.ndarray, groups: int) -> np.ndarray:
    """(N, O, OH, OW) -> (groups, N*OH*OW, O/groups), the GEMM layout of an output."""
    n, o, oh, ow = y.shape
    return y.reshape(n, groups, o // groups, oh, ow).transpose(1, 0, 3, 4, 2).reshape(
        groups, n * oh * ow, o // groups)


def _unrows(rows: np.ndarray, n: int, out_hw: Pair) -> np.ndarray:
    """Inverse of :func:`_rows`."""
    groups, _, og = rows.shape
    out = rows.reshape(groups, n, *out_hw, og).transpose(1, 0, 4, 2, 3)
    return np.ascontiguousarray(out.reshape(n, groups * og, *out_hw))


CONV_PARAMS = ("stride", "padding", "dilation", "groups")


def conv_forward(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair, dilation: Pair,
                 groups: int) -> np.ndarray:
    """Cross-correlation of arrays: im2col, then one batched GEMM over the groups."""
    oh, ow = output_hw(x.shape[2:], w.shape[2:], stride, padding, dilation)
    cols = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
    wmat = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
    return _unrows(cols @ wmat, x.shape[0], (oh, ow))


@register_op("conv2d", nin=2, shape_rule="conv2d", torch_name="nn.functional.conv2d")
class Conv2d(Function):
    """y = x (*) w (cross-correlation);  dy/dx = conv2d_input_grad,  dy/dw = conv2d_weight_grad"""

    @staticmethod
    def forward(ctx, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        ctx.save_for_backward(x, w)
        ctx.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return conv_forward(x, w, stride, padding, dilation, groups)

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
        kh, kw = w.shape[2:]
        oh, ow = g.shape[2:]
        wmat = w.reshape(groups, w.shape[0] // groups, -1)
        cols = _rows(g, groups) @ wmat                                  # (G, N*OH*OW, Cg*KH*KW)
        cols = cols.reshape(groups, n, oh, ow, c // groups, kh, kw)
        cols = cols.transpose(1, 0, 4, 2, 3, 5, 6).reshape(n, c, oh, ow, kh, kw)
        padded = (h + 2 * padding[0], wd + 2 * padding[1])
        return np.ascontiguousarray(_crop_hw(col2im(cols, padded, stride, dilation), padding,
                                             (h, wd)))

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
        gw = cols.transpose(0, 2, 1) @ _rows(g, groups)                 # (G, Cg*KH*KW, Og)
        return np.ascontiguousarray(gw.transpose(0, 2, 1).reshape(w_shape))

    @staticmethod
    def backward(ctx, v):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        gx = Conv2dInputGrad.apply(g, v, x_shape=x.shape, **ctx.conf) if need_x else None
        gg = Conv2d.apply(x, v, **ctx.conf) if need_g else None
        return gx, gg


POOL_PARAMS = ("kernel_size", "stride", "padding")


@register_op("max_pool2d", nin=1, shape_rule="pool2d", torch_name="nn.functional.max_pool2d")
class MaxPool2d(Function):
    """y = max over each window;  dy/dx = 1 at the window's first arg-max (as PyTorch), else 0"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1)):
        n, c, h, w = x.shape
        oh, ow = output_hw((h, w), kernel_size, stride, padding, dilation)
        win = windows(_pad_hw(x, padding, -np.inf), kernel_size, stride, dilation, (oh, ow))
        win = win.reshape(n, c, oh, ow, -1)
        arg = win.argmax(axis=-1)
        out = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        # Flat index of each winner in x: the gradient is scattered there by index_add.
        rows = (np.arange(oh)[:, None] * stride[0] + (arg // kernel_size[1]) * dilation[0]
                - padding[0])
        cols = (np.arange(ow)[None, :] * stride[1] + (arg % kernel_size[1]) * dilation[1]
                - padding[1])
        planes = np.arange(n * c).reshape(n, c, 1, 1)
        ctx.flat_index = ((planes * h + rows) * w + cols).reshape(-1)
        ctx.size, ctx.shape = x.size, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        flat = IndexAdd.apply(g.reshape(-1), index=(ctx.flat_index,), shape=(ctx.size,))
        return (flat.reshape(ctx.shape),)


@register_op("avg_pool2d", nin=1, shape_rule="pool2d", torch_name="nn.functional.avg_pool2d")
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


@register_op("avg_pool2d_grad", nin=1, shape_rule="avg_pool2d_grad")
class AvgPool2dGrad(Function):
    """z = adjoint of avg_pool2d applied to g (spreads g/k over each window);  dz/dg = avg_pool2d"""

    @staticmethod
    def forward(ctx, g, x_shape, kernel_size, stride, padding=(0, 0)):
        ctx.conf = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        h, w = x_shape[2:]
        scale = 1.0 / (kernel_size[0] * kernel_size[1])
        cols = np.broadcast_to((g * scale)[..., None, None], g.shape + tuple(kernel_size))
        padded = (h + 2 * padding[0], w + 2 * padding[1])
        return np.ascontiguousarray(_crop_hw(col2im(cols, padded, stride, (1, 1)), padding,
                                             (h, w)))

    @staticmethod
    def backward(ctx, u):
        return (AvgPool2d.apply(u, **ctx.conf),)
