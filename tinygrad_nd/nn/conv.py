"""Convolution layers, 1 to 3 spatial axes, plain and transposed, with PyTorch's parameter
names and shapes (`weight` (out, in/groups, *kernel), or (in, out/groups, *kernel) when
transposed, and `bias`), so PyTorch state dicts load."""

from __future__ import annotations

from typing import Any

from .. import dtypes, factories
from ..functional import _int_at_least
from ..tensor import Tensor
from . import functional as F
from .conv_functional import IntOrTuple, _check_bool, _check_input, _conv_args, _ntuple
from .init import init_layer
from .module import Module, Parameter


class _ConvNd(Module):
    dims: int = 2
    transposed: bool = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                 groups: int = 1, bias: bool = True, output_padding: IntOrTuple = 0,
                 init: Any = "pytorch", generator: factories.Generator | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        dtype = dtypes.check_float_dtype(dtype, name)
        _int_at_least(in_channels, "in_channels", name)
        _int_at_least(out_channels, "out_channels", name)
        conf = _conv_args(stride, padding, dilation, groups, self.dims, name)
        _check_bool(bias, "bias", name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, self.dims, "kernel_size", name)
        self.stride, self.padding, self.dilation = conf["stride"], conf["padding"], conf["dilation"]
        self.groups = groups
        self.output_padding = _ntuple(output_padding, self.dims, "output_padding", name, 0)
        if self.transposed and any(e >= s for e, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller "
                             f"than the stride {self.stride}")
        channels = ((in_channels, out_channels // groups) if self.transposed
                    else (out_channels, in_channels // groups))
        self.weight = Parameter(factories.zeros(*channels, *self.kernel_size, dtype=dtype))
        self.register_parameter("bias", Parameter(factories.zeros(out_channels, dtype=dtype))
                                if bias else None)
        init_layer(self.weight, self.bias, init, generator)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        _check_input(x.shape, self.dims, name)
        return F.convolution(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                             self.transposed, self.output_padding, self.groups, op=name)

    def extra_repr(self) -> str:
        extra = f", output_padding={self.output_padding}" if any(self.output_padding) else ""
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{extra}")


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                 groups: int = 1, bias: bool = True, init: Any = "pytorch",
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, 0, init, generator, dtype)


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                 output_padding: IntOrTuple = 0, groups: int = 1, bias: bool = True,
                 dilation: IntOrTuple = 1, init: Any = "pytorch",
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, output_padding, init, generator, dtype)


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) inputs; weight (out, in/groups, k).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the channels of the input, and C_out, those of the output.
    kernel_size : int or tuple of int
        The window's size, an int.
    stride : int or tuple of int, default 1
        The step between windows.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements (1: contiguous).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide
        C_in and C_out); `groups=C_in` is a depthwise convolution.
    bias : bool, default True
        Learn a bias per output channel (else `bias` is None).
    init : str or callable, default "pytorch"
        A scheme of `tinygrad_nd.nn.init` (`"pytorch"`: U(+-1/sqrt(fan_in)) for weight
        and bias, fan_in = C_in/groups times the kernel's size) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.Conv1d(2, 4, 3, padding=1)(tg.zeros(5, 2, 10)).shape
    (5, 4, 10)
    """

    dims = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W) inputs; weight (out, in/groups, kh, kw).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the channels of the input, and C_out, those of the output.
    kernel_size : int or tuple of int
        The window's size, an int or a pair (one per spatial axis).
    stride : int or tuple of int, default 1
        The step between windows.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements (1: contiguous).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide
        C_in and C_out); `groups=C_in` is a depthwise convolution.
    bias : bool, default True
        Learn a bias per output channel (else `bias` is None).
    init : str or callable, default "pytorch"
        A scheme of `tinygrad_nd.nn.init` (`"pytorch"`: U(+-1/sqrt(fan_in)) for weight
        and bias, fan_in = C_in/groups times the kernel's size) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.Conv2d(1, 8, 5)(tg.zeros(2, 1, 28, 28)).shape
    (2, 8, 24, 24)
    """

    dims = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C, D, H, W) inputs; weight (out, in/groups, kd, kh, kw).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the channels of the input, and C_out, those of the output.
    kernel_size : int or tuple of int
        The window's size, an int or a triple (one per spatial axis).
    stride : int or tuple of int, default 1
        The step between windows.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements (1: contiguous).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide
        C_in and C_out); `groups=C_in` is a depthwise convolution.
    bias : bool, default True
        Learn a bias per output channel (else `bias` is None).
    init : str or callable, default "pytorch"
        A scheme of `tinygrad_nd.nn.init` (`"pytorch"`: U(+-1/sqrt(fan_in)) for weight
        and bias, fan_in = C_in/groups times the kernel's size) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.Conv3d(1, 2, 3)(tg.zeros(1, 1, 4, 5, 6)).shape
    (1, 2, 2, 3, 4)
    """

    dims = 3


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution; weight (in, out/groups, k).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the channels of the input, and C_out, those of the output.
    kernel_size : int or tuple of int
        The window's size, an int.
    stride : int or tuple of int, default 1
        The output's upsampling factor (the step of the convolution this one is the
        transpose of).
    padding : int or tuple of int, default 0
        Positions trimmed from each end of every spatial axis of the full output
        (`out = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1`).
    output_padding : int or tuple of int, default 0
        Extra positions added at the end of each spatial axis, smaller than the
        stride: picks one of the output sizes a strided convolution maps to the
        same input size.
    groups : int, default 1
        Split the channels into this many independent groups (it must divide
        C_in and C_out).
    bias : bool, default True
        Learn a bias per output channel (else `bias` is None).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    init : str or callable, default "pytorch"
        A scheme of `tinygrad_nd.nn.init` (`"pytorch"`: U(+-1/sqrt(fan_in)) for weight
        and bias, fan_in = C_out/groups times the kernel's size, from the weight's shape as
        in PyTorch) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.ConvTranspose1d(2, 3, 4, stride=2, padding=1)(tg.zeros(1, 2, 5)).shape
    (1, 3, 10)
    """

    dims = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (an upsampling layer); weight (in, out/groups, kh, kw).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the channels of the input, and C_out, those of the output.
    kernel_size : int or tuple of int
        The window's size, an int or a pair (one per spatial axis).
    stride : int or tuple of int, default 1
        The output's upsampling factor (the step of the convolution this one is the
        transpose of).
    padding : int or tuple of int, default 0
        Positions trimmed from each end of every spatial axis of the full output
        (`out = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1`).
    output_padding : int or tuple of int, default 0
        Extra positions added at the end of each spatial axis, smaller than the
        stride: picks one of the output sizes a strided convolution maps to the
        same input size.
    groups : int, default 1
        Split the channels into this many independent groups (it must divide
        C_in and C_out).
    bias : bool, default True
        Learn a bias per output channel (else `bias` is None).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    init : str or callable, default "pytorch"
        A scheme of `tinygrad_nd.nn.init` (`"pytorch"`: U(+-1/sqrt(fan_in)) for weight
        and bias, fan_in = C_out/groups times the kernel's size, from the weight's shape as
        in PyTorch) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)(
    ...     tg.zeros(1, 4, 7, 7)).shape
    (1, 2, 14, 14)
    """

    dims = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution; weight (in, out/groups, kd, kh, kw).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the channels of the input, and C_out, those of the output.
    kernel_size : int or tuple of int
        The window's size, an int or a triple (one per spatial axis).
    stride : int or tuple of int, default 1
        The output's upsampling factor (the step of the convolution this one is the
        transpose of).
    padding : int or tuple of int, default 0
        Positions trimmed from each end of every spatial axis of the full output
        (`out = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1`).
    output_padding : int or tuple of int, default 0
        Extra positions added at the end of each spatial axis, smaller than the
        stride: picks one of the output sizes a strided convolution maps to the
        same input size.
    groups : int, default 1
        Split the channels into this many independent groups (it must divide
        C_in and C_out).
    bias : bool, default True
        Learn a bias per output channel (else `bias` is None).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    init : str or callable, default "pytorch"
        A scheme of `tinygrad_nd.nn.init` (`"pytorch"`: U(+-1/sqrt(fan_in)) for weight
        and bias, fan_in = C_out/groups times the kernel's size, from the weight's shape as
        in PyTorch) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.ConvTranspose3d(1, 1, 2, stride=2)(tg.zeros(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    dims = 3
