"""Pooling and resampling layers, 1 to 3 spatial axes, with PyTorch's names and arguments.
They hold no parameters; each checks its arguments at construction, not in forward."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .conv_functional import IntOrTuple, _check_bool, _pool_args
from .module import Module


class _MaxPoolNd(Module):
    dims = 2

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        _pool_args(kernel_size, stride, padding, self.dims, name, dilation, ceil_mode)
        _check_bool(return_indices, "return_indices", name)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Any:
        pool = getattr(F, f"max_pool{self.dims}d")
        return pool(x, self.kernel_size, self.stride, self.padding, self.dilation,
                    self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class _AvgPoolNd(Module):
    dims = 2

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        _pool_args(kernel_size, stride, padding, self.dims, name, 1, ceil_mode)
        _check_bool(count_include_pad, "count_include_pad", name)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        pool = getattr(F, f"avg_pool{self.dims}d")
        return pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                    self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L) inputs; the gradient goes to each window's arg-max.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size, an int.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default (windows side by side).
    padding : int or tuple of int, default 0
        Positions added at both ends of every spatial axis (-inf: they never win); at most half the
        kernel size.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    return_indices : bool, default False
        Also return, for each maximum, its flat index within its (unpadded) plane, the
        input `max_unpool` takes: the layer then returns `(output, indices)`.
    ceil_mode : bool, default False
        Round the output size up instead of down, so a last partial window counts (one
        that starts inside the input or the left padding).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.MaxPool1d(2)(tg.Tensor([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
    [[[3.0, 2.0]]]
    """

    dims = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows of (N, C, H, W) inputs; the gradient goes to each window's arg-max.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size, an int or a pair (one per spatial axis).
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default (windows side by side).
    padding : int or tuple of int, default 0
        Positions added at both ends of every spatial axis (-inf: they never win); at most half the
        kernel size.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    return_indices : bool, default False
        Also return, for each maximum, its flat index within its (unpadded) plane, the
        input `max_unpool` takes: the layer then returns `(output, indices)`.
    ceil_mode : bool, default False
        Round the output size up instead of down, so a last partial window counts (one
        that starts inside the input or the left padding).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.MaxPool2d(3, stride=2, ceil_mode=True)(tg.zeros(1, 1, 6, 6)).shape
    (1, 1, 3, 3)
    """

    dims = 2


class MaxPool3d(_MaxPoolNd):
    """Max over windows of (N, C, D, H, W) inputs; the gradient goes to each window's
    arg-max.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size, an int or a triple (one per spatial axis).
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default (windows side by side).
    padding : int or tuple of int, default 0
        Positions added at both ends of every spatial axis (-inf: they never win); at most half the
        kernel size.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    return_indices : bool, default False
        Also return, for each maximum, its flat index within its (unpadded) plane, the
        input `max_unpool` takes: the layer then returns `(output, indices)`.
    ceil_mode : bool, default False
        Round the output size up instead of down, so a last partial window counts (one
        that starts inside the input or the left padding).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.MaxPool3d(2)(tg.zeros(1, 1, 4, 4, 4)).shape
    (1, 1, 2, 2, 2)
    """

    dims = 3


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of (N, C, L) inputs; the gradient is spread evenly.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size, an int.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default (windows side by side).
    padding : int or tuple of int, default 0
        Positions added at both ends of every spatial axis (zeros); at most half the
        kernel size.
    ceil_mode : bool, default False
        Round the output size up instead of down, so a last partial window counts (one
        that starts inside the input or the left padding).
    count_include_pad : bool, default True
        Count the zero padding in each window's divisor; False divides by the number of
        input elements in the window.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.AvgPool1d(2)(tg.Tensor([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
    [[[2.0, 1.0]]]
    """

    dims = 1


class AvgPool2d(_AvgPoolNd):
    """Mean over windows of (N, C, H, W) inputs (zero padding counted unless
    `count_include_pad=False`); the gradient is spread evenly.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size, an int or a pair (one per spatial axis).
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default (windows side by side).
    padding : int or tuple of int, default 0
        Positions added at both ends of every spatial axis (zeros); at most half the
        kernel size.
    ceil_mode : bool, default False
        Round the output size up instead of down, so a last partial window counts (one
        that starts inside the input or the left padding).
    count_include_pad : bool, default True
        Count the zero padding in each window's divisor; False divides by the number of
        input elements in the window.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.AvgPool2d(2)(tg.ones(1, 1, 4, 6)).shape
    (1, 1, 2, 3)
    """

    dims = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over windows of (N, C, D, H, W) inputs; the gradient is spread evenly.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size, an int or a triple (one per spatial axis).
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default (windows side by side).
    padding : int or tuple of int, default 0
        Positions added at both ends of every spatial axis (zeros); at most half the
        kernel size.
    ceil_mode : bool, default False
        Round the output size up instead of down, so a last partial window counts (one
        that starts inside the input or the left padding).
    count_include_pad : bool, default True
        Count the zero padding in each window's divisor; False divides by the number of
        input elements in the window.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.AvgPool3d(2)(tg.ones(1, 1, 2, 4, 4)).shape
    (1, 1, 1, 2, 2)
    """

    dims = 3


class AdaptiveAvgPool2d(Module):
    """Mean over an `output_size` grid of windows covering the (H, W) plane.

    Parameters
    ----------
    output_size : int, pair of int or None
        The (H_out, W_out) of the output (an int for both); an entry None keeps that
        axis's size. Windows may overlap or differ in size by one, as in PyTorch.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.AdaptiveAvgPool2d((1, 1))(tg.ones(2, 3, 7, 5)).shape
    (2, 3, 1, 1)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Upsample(Module):
    """`tinygrad_nd.nn.functional.interpolate` as a layer.

    Parameters
    ----------
    size : int or tuple of int, optional
        The output's spatial size (an int for every axis); give this or `scale_factor`.
    scale_factor : float or tuple of float, optional
        The output's spatial size as a multiple of the input's (rounded down).
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
    >>> from tinygrad_nd import nn
    >>> nn.Upsample(scale_factor=2, mode="bilinear")(tg.ones(1, 1, 3, 4)).shape
    (1, 1, 6, 8)
    """

    def __init__(self, size: IntOrTuple | None = None, scale_factor: Any = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else \
            f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"
