"""The convolution and pooling family of `nn.functional` (PyTorch's `F`), N-d, with
its argument checks: each function validates its arguments, naming itself, before the
registered op runs, so no numpy error surfaces. Re-exported by `tinygrad_nd.nn.functional`
(and `conv2d`, `max_pool2d`, `avg_pool2d` by the top-level package).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..functional import _int_at_least, _is_int
from ..registry import apply
from ..tensor import Tensor

IntOrTuple = int | tuple[int, ...]
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_TUPLE = {1: "1-tuple", 2: "pair", 3: "triple"}


def _ntuple(value: IntOrTuple, dims: int, name: str, op: str, minimum: int = 1) -> tuple[int, ...]:
    """`value` (an int, or one int per spatial axis) as a tuple of `dims` ints, or a
    TypeError / ValueError naming `op` and the argument."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims or not all(_is_int(v) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a {_TUPLE[dims]} of ints, got "
                        f"{type(value).__name__} {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a {_TUPLE[dims]} of "
                         f"them, got {value!r}")
    return tuple(int(v) for v in values)


def _check_bool(value: Any, name: str, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_input(shape: Sequence[int], dims: int, op: str, weight: str = "") -> None:
    """An (N, C, *spatial) input of `dims` spatial axes (and a weight of as many)."""
    if len(shape) != dims + 2:
        raise ValueError(f"{op}: expected input (N, C, {_SPATIAL[dims]}){weight}, got shape "
                         f"{tuple(shape)}")


def _conv_args(stride: IntOrTuple, padding: IntOrTuple, dilation: IntOrTuple, groups: int,
               dims: int, op: str) -> dict[str, Any]:
    """The shape-independent settings of a convolution, checked (also used by nn.Conv*d)."""
    return dict(stride=_ntuple(stride, dims, "stride", op),
                padding=_ntuple(padding, dims, "padding", op, 0),
                dilation=_ntuple(dilation, dims, "dilation", op),
                groups=_int_at_least(groups, "groups", op))


def _conv_config(x_shape: Sequence[int], w_shape: Sequence[int], stride: IntOrTuple,
                 padding: IntOrTuple, dilation: IntOrTuple, groups: int, dims: int, op: str,
                 transposed: bool = False, output_padding: IntOrTuple = 0) -> dict[str, Any]:
    """Checked settings of a convolution of these shapes; for a transposed one also the
    `x_shape` of the convolution it is the adjoint of (its output shape)."""
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    kind = "C_in, C_out/groups" if transposed else "C_out, C_in/groups"
    if len(w_shape) != dims + 2:
        raise ValueError(f"{op}: expected input (N, C, {_SPATIAL[dims]}) and weight ({kind}, "
                         f"kernel), got shapes {x_shape} and {w_shape}")
    _check_input(x_shape, dims, op, f" and weight ({kind}, kernel)")
    conf = _conv_args(stride, padding, dilation, groups, dims, op)
    groups, size, kernel = conf["groups"], x_shape[2:], w_shape[2:]
    out_channels = w_shape[1] * groups if transposed else w_shape[0]
    if x_shape[1] % groups or out_channels % groups or (transposed and w_shape[0] % groups):
        raise ValueError(f"{op}: groups={groups} must divide the input channels "
                         f"({x_shape[1]}) and the output channels ({out_channels})")
    expected = w_shape[0] if transposed else w_shape[1] * groups
    if expected != x_shape[1]:
        raise ValueError(f"{op}: weight of shape {w_shape} expects {expected} input channels "
                         f"(groups={groups}), but the input of shape {x_shape} has "
                         f"{x_shape[1]}")
    if transposed:
        extra = _ntuple(output_padding, dims, "output_padding", op, 0)
        if any(e >= s for e, s in zip(extra, conf["stride"])):
            raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride "
                             f"{conf['stride']}")
        out = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in
                    zip(size, conf["stride"], conf["padding"], conf["dilation"], kernel, extra))
        if min(out) < 1:
            raise ValueError(f"{op}: the output size {out} of an input of shape {x_shape} "
                             f"with kernel {kernel} and padding {conf['padding']} is empty")
        return dict(conf, x_shape=(x_shape[0], out_channels, *out))
    from ..ops.conv import output_size

    out = output_size(size, kernel, conf["stride"], conf["padding"], conf["dilation"])
    if min(out) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {conf['dilation']}) does not fit "
                         f"the input of shape {x_shape} with padding {conf['padding']}")
    return conf


def _with_bias(out: Tensor, bias: Tensor | None, op: str) -> Tensor:
    if bias is None:
        return out
    if bias.shape != (out.shape[1],):
        raise ValueError(f"{op}: bias must have shape ({out.shape[1]},), got {bias.shape}")
    return out + bias.reshape((1, -1) + (1,) * (out.ndim - 2))


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                stride: IntOrTuple = 1, padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                transposed: bool = False, output_padding: IntOrTuple = 0, groups: int = 1,
                *, op: str = "convolution") -> Tensor:
    """N-d convolution or transposed convolution (as `torch.convolution`); the number of
    spatial axes is the input's `ndim - 2`, and `conv1d` ... `conv_transpose3d` are
    this function.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, *spatial)
        The input (1 to 3 spatial axes).
    weight : Tensor
        The kernels, shape (C_out, C_in/groups, *kernel); (C_in, C_out/groups, *kernel)
        when `transposed`.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The step between windows (for `transposed`: the output's upsampling factor), an
        int or one per spatial axis.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis (for `transposed`: positions
        trimmed from both ends of the full output).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    transposed : bool, default False
        Compute the transposed convolution (the input gradient of the plain one).
    output_padding : int or tuple of int, default 0
        With `transposed`, extra positions at the end of each spatial axis of the output,
        smaller than the stride (which of the sizes a strided convolution maps to the same
        input size).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).
    op : str, default "convolution"
        The name errors give (keyword only; the conv1d ... wrappers pass theirs).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.convolution(tg.ones(1, 1, 5), tg.ones(2, 1, 3)).tolist()
    [[[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]]
    """
    dims = input.ndim - 2
    if dims not in _SPATIAL:
        raise ValueError(f"{op}: expected an (N, C, *spatial) input with 1 to 3 spatial axes, "
                         f"got shape {input.shape}")
    conf = _conv_config(input.shape, weight.shape, stride, padding, dilation, groups, dims, op,
                        _check_bool(transposed, "transposed", op), output_padding)
    if transposed:
        out = apply("convolution_input_grad", input, weight, **conf)
    else:
        out = apply("convolution", input, weight, **conf)
    return _with_bias(out, bias, op)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of an (N, C, L) input with (O, C/groups, K) weights.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, L)
        The input.
    weight : Tensor, shape (C_out, C_in/groups, K)
        The kernels.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The step between windows, an int or one per spatial axis.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).
    """
    _check_input(input.shape, 1, "conv1d")
    return convolution(input, weight, bias, stride, padding, dilation, False, 0, groups,
                       op="conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of an (N, C, H, W) input with (O, C/groups, KH, KW) weights.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W)
        The input.
    weight : Tensor, shape (C_out, C_in/groups, KH, KW)
        The kernels.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The step between windows, an int or one per spatial axis.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> y = tg.conv2d(tg.ones(1, 1, 4, 4), tg.ones(2, 1, 3, 3), padding=1)
    >>> y.shape, y[0, 0, 1, 1].item()
    ((1, 2, 4, 4), 9.0)
    """
    _check_input(input.shape, 2, "conv2d")
    return convolution(input, weight, bias, stride, padding, dilation, False, 0, groups,
                       op="conv2d")


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation of an (N, C, D, H, W) input with (O, C/groups, KD, KH, KW)
    weights.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, D, H, W)
        The input.
    weight : Tensor, shape (C_out, C_in/groups, KD, KH, KW)
        The kernels.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The step between windows, an int or one per spatial axis.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).
    """
    _check_input(input.shape, 3, "conv3d")
    return convolution(input, weight, bias, stride, padding, dilation, False, 0, groups,
                       op="conv3d")


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """Transposed 1-D convolution (the input gradient of conv1d) with (C_in, C_out/groups, K)
    weights; `output_padding` adds that many positions at the end of the output.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, L)
        The input.
    weight : Tensor, shape (C_in, C_out/groups, K)
        The kernels.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The output's upsampling factor (the stride of the convolution this is the
        transpose of), an int or one per spatial axis.
    padding : int or tuple of int, default 0
        Positions trimmed from both ends of every spatial axis of the full output.
    output_padding : int or tuple of int, default 0
        Extra positions at the end of each spatial axis of the output, smaller than the stride
        (which of the sizes a strided convolution maps to the same input size).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    """
    _check_input(input.shape, 1, "conv_transpose1d")
    return convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                       groups, op="conv_transpose1d")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """Transposed 2-D convolution (the input gradient of conv2d) with
    (C_in, C_out/groups, KH, KW) weights.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W)
        The input.
    weight : Tensor, shape (C_in, C_out/groups, KH, KW)
        The kernels.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The output's upsampling factor (the stride of the convolution this is the
        transpose of), an int or one per spatial axis.
    padding : int or tuple of int, default 0
        Positions trimmed from both ends of every spatial axis of the full output.
    output_padding : int or tuple of int, default 0
        Extra positions at the end of each spatial axis of the output, smaller than the stride
        (which of the sizes a strided convolution maps to the same input size).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.conv_transpose2d(tg.ones(1, 1, 3, 3), tg.ones(1, 2, 2, 2), stride=2).shape
    (1, 2, 6, 6)
    """
    _check_input(input.shape, 2, "conv_transpose2d")
    return convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                       groups, op="conv_transpose2d")


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """Transposed 3-D convolution (the input gradient of conv3d).

    Parameters
    ----------
    input : Tensor, shape (N, C_in, D, H, W)
        The input.
    weight : Tensor, shape (C_in, C_out/groups, KD, KH, KW)
        The kernels.
    bias : Tensor, shape (C_out,), optional
        Added to every output position of each channel; none by default.
    stride : int or tuple of int, default 1
        The output's upsampling factor (the stride of the convolution this is the
        transpose of), an int or one per spatial axis.
    padding : int or tuple of int, default 0
        Positions trimmed from both ends of every spatial axis of the full output.
    output_padding : int or tuple of int, default 0
        Extra positions at the end of each spatial axis of the output, smaller than the stride
        (which of the sizes a strided convolution maps to the same input size).
    groups : int, default 1
        Split the channels into this many independent groups (it must divide C_in and C_out).
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    """
    _check_input(input.shape, 3, "conv_transpose3d")
    return convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                       groups, op="conv_transpose3d")


def _pool_args(kernel_size: IntOrTuple, stride: IntOrTuple | None, padding: IntOrTuple,
               dims: int, op: str, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               ) -> dict[str, Any]:
    """The shape-independent settings of a pooling window, checked (also used by the pooling
    layers' constructors). `stride` defaults to the kernel size."""
    kernel = _ntuple(kernel_size, dims, "kernel_size", op)
    conf = dict(kernel_size=kernel,
                stride=kernel if stride is None else _ntuple(stride, dims, "stride", op),
                padding=_ntuple(padding, dims, "padding", op, 0),
                dilation=_ntuple(dilation, dims, "dilation", op),
                ceil_mode=_check_bool(ceil_mode, "ceil_mode", op))
    if any(p > k // 2 for p, k in zip(conf["padding"], kernel)):
        raise ValueError(f"{op}: padding {conf['padding']} must be at most half the kernel "
                         f"size {kernel}")
    return conf


def _pool_config(x_shape: Sequence[int], kernel_size: IntOrTuple, stride: IntOrTuple | None,
                 padding: IntOrTuple, dims: int, op: str, dilation: IntOrTuple = 1,
                 ceil_mode: bool = False) -> dict[str, Any]:
    """Checked settings of a pooling of an input of this shape."""
    _check_input(x_shape, dims, op)
    conf = _pool_args(kernel_size, stride, padding, dims, op, dilation, ceil_mode)
    span = tuple(d * (k - 1) + 1 for d, k in zip(conf["dilation"], conf["kernel_size"]))
    if any(s + 2 * p < k for s, p, k in zip(x_shape[2:], conf["padding"], span)):
        raise ValueError(f"{op}: kernel {conf['kernel_size']} (dilation {conf['dilation']}) is "
                         f"larger than the padded input of shape {tuple(x_shape)} (padding "
                         f"{conf['padding']})")
    return conf


def _max_pool(x: Tensor, dims: int, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: IntOrTuple, dilation: IntOrTuple, ceil_mode: bool, return_indices: bool,
              ) -> Tensor | tuple[Tensor, Tensor]:
    op = f"max_pool{dims}d"
    conf = _pool_config(x.shape, kernel_size, stride, padding, dims, op, dilation, ceil_mode)
    out = apply("max_pool", x, **conf)
    if not _check_bool(return_indices, "return_indices", op):
        return out
    from ..ops.pool import max_and_arg, window_winners

    _, arg = max_and_arg(x.data, conf["kernel_size"], conf["stride"], conf["padding"],
                         conf["dilation"], conf["ceil_mode"], with_arg=True)
    flat, _ = window_winners(arg, x.shape, conf["kernel_size"], conf["stride"], conf["padding"],
                          conf["dilation"])
    # PyTorch's indices count within each (image, channel) plane
    per_plane = int(np.prod(x.shape[2:]))
    base = np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1,) * dims) * per_plane
    return out, Tensor._make((flat - base).astype(np.int64), None)


def max_pool1d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over windows of an (N, C, L) input; see `max_pool2d`.

    Parameters
    ----------
    input : Tensor, shape (N, C, L)
        The input.
    kernel_size : int or tuple of int
        The window's size, an int or one per spatial axis.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default.
    padding : int or tuple of int, default 0
        -inf added at both ends of every spatial axis (it never wins); at most half the kernel
        size.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    ceil_mode : bool, default False
        Round the output size up, so a last partial window counts (if it starts inside the
        input or the left padding).
    return_indices : bool, default False
        Also return each maximum's flat index within its plane (first on ties), the input of
        `max_unpool`: the result is then `(output, indices)`.
    """
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over (kernel_size) windows; `stride` defaults to the kernel size. With
    `return_indices`, also each maximum's flat index within its (H, W) plane, as PyTorch.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
        The input.
    kernel_size : int or tuple of int
        The window's size, an int or one per spatial axis.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default.
    padding : int or tuple of int, default 0
        -inf added at both ends of every spatial axis (it never wins); at most half the kernel
        size.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    ceil_mode : bool, default False
        Round the output size up, so a last partial window counts (if it starts inside the
        input or the left padding).
    return_indices : bool, default False
        Also return each maximum's flat index within its plane (first on ties), the input of
        `max_unpool`: the result is then `(output, indices)`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over windows of an (N, C, D, H, W) input; see `max_pool2d`.

    Parameters
    ----------
    input : Tensor, shape (N, C, D, H, W)
        The input.
    kernel_size : int or tuple of int
        The window's size, an int or one per spatial axis.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default.
    padding : int or tuple of int, default 0
        -inf added at both ends of every spatial axis (it never wins); at most half the kernel
        size.
    dilation : int or tuple of int, default 1
        The spacing between a window's elements.
    ceil_mode : bool, default False
        Round the output size up, so a last partial window counts (if it starts inside the
        input or the left padding).
    return_indices : bool, default False
        Also return each maximum's flat index within its plane (first on ties), the input of
        `max_unpool`: the result is then `(output, indices)`.
    """
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(x: Tensor, dims: int, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: IntOrTuple, ceil_mode: bool, count_include_pad: bool) -> Tensor:
    op = f"avg_pool{dims}d"
    conf = _pool_config(x.shape, kernel_size, stride, padding, dims, op, 1, ceil_mode)
    del conf["dilation"]
    return apply("avg_pool", x, **conf,
                 count_include_pad=_check_bool(count_include_pad, "count_include_pad", op))


def avg_pool1d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of an (N, C, L) input; see `avg_pool2d`.

    Parameters
    ----------
    input : Tensor, shape (N, C, L)
        The input.
    kernel_size : int or tuple of int
        The window's size, an int or one per spatial axis.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis; at most half the kernel
        size.
    ceil_mode : bool, default False
        Round the output size up, so a last partial window counts (if it starts inside the
        input or the left padding).
    count_include_pad : bool, default True
        Count the zero padding in each window's divisor; False divides by the number of input
        elements in the window.
    """
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over (kernel_size) windows; zero padding counts unless `count_include_pad` is
    False (PyTorch's default counts it).

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
        The input.
    kernel_size : int or tuple of int
        The window's size, an int or one per spatial axis.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis; at most half the kernel
        size.
    ceil_mode : bool, default False
        Round the output size up, so a last partial window counts (if it starts inside the
        input or the left padding).
    count_include_pad : bool, default True
        Count the zero padding in each window's divisor; False divides by the number of input
        elements in the window.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.avg_pool2d(tg.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool3d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of an (N, C, D, H, W) input; see `avg_pool2d`.

    Parameters
    ----------
    input : Tensor, shape (N, C, D, H, W)
        The input.
    kernel_size : int or tuple of int
        The window's size, an int or one per spatial axis.
    stride : int or tuple of int, optional
        The step between windows; the kernel size by default.
    padding : int or tuple of int, default 0
        Zeros added at both ends of every spatial axis; at most half the kernel
        size.
    ceil_mode : bool, default False
        Round the output size up, so a last partial window counts (if it starts inside the
        input or the left padding).
    count_include_pad : bool, default True
        Count the zero padding in each window's divisor; False divides by the number of input
        elements in the window.
    """
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad)
