"""Module-level functions on tensors: joins, selections and the convolution family.

Each is a thin, validating front end to registered ops, so shape errors name the op and the
shapes involved before any numpy error can surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .einsum import baddbmm, bmm, einsum, outer, tensordot  # noqa: F401
from .ops.reduce import logsumexp, norm, prod, vector_norm  # noqa: F401
from .ops.scan import cumprod, cumsum, logcumsumexp  # noqa: F401
from .ops.sort import kthvalue, median, sort, topk  # noqa: F401
from .registry import apply
from .tensor import Tensor

# (above: reductions, scans, selections and contractions, defined beside their ops and
# re-exported here; max/min/all/any are in reductions.py, where they shadow no builtin used)

IntPair = int | tuple[int, int]


def _is_int(value: Any) -> bool:
    """A Python or numpy integer, but not a bool (True would silently mean 1)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _int_at_least(value: Any, name: str, op: str, minimum: int = 1) -> int:
    """``value`` as an int, or a TypeError (not an int) / ValueError (below ``minimum``)
    naming ``op`` and the argument."""
    if not _is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def _real_in(value: Any, name: str, op: str, low: float, high: float = float("inf"),
             closed: bool = False) -> float:
    """``value`` as a float if it is a finite real number in [low, high) (or [low, high] when
    ``closed``); else a TypeError (bools, strings, complex) or ValueError naming the argument."""
    if isinstance(value, (bool, np.bool_, complex, np.complexfloating)) or \
            not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    inside = low <= value <= high if closed else low <= value < high
    if not (inside and np.isfinite(value)):
        raise ValueError(f"{op}: {name} must be in [{low:g}, {high:g}{']' if closed else ')'}, "
                         f"got {value!r}")
    return float(value)


def _pair(value: IntPair, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got "
                        f"{type(value).__name__} {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, "
                         f"got {value!r}")
    return int(pair[0]), int(pair[1])


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def cat(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.cat([tg.ones(2), tg.zeros(1)]).tolist()
    [1.0, 1.0, 0.0]
    """
    return apply("cat", *[_tensor(t) for t in tensors], axis=axis if dim is None else dim)


concatenate = cat


def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new axis.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.stack([tg.ones(2), tg.zeros(2)]).shape
    (2, 2)
    """
    axis = axis if dim is None else dim
    tensors = [_tensor(t) for t in tensors]
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return cat([t.unsqueeze(axis) for t in tensors], axis=axis)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into pieces of ``split_size`` (int) or of the listed sizes, along ``axis``.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> [p.shape for p in tg.arange(5).split(2)]
    [(2,), (2,), (1,)]
    """
    length = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split size must be positive, got {step}")
        sizes = [min(step, length - s) for s in range(0, length, step)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} do not add up to {length}, the size of "
                             f"axis {axis} of a tensor of shape {x.shape}")
    lead = (slice(None),) * (axis % x.ndim)
    starts = np.cumsum([0] + sizes)
    return [x[lead + (slice(int(a), int(b)),)] for a, b in zip(starts[:-1], starts[1:])]


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (broadcast together).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([-1.0, 2.0])
    >>> tg.where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    """
    cond = condition if isinstance(condition, Tensor) else Tensor(np.asarray(condition, bool))
    if cond.dtype != np.bool_:
        cond = Tensor._make(cond.data.astype(bool), None)
    x = _tensor(x) if isinstance(x, Tensor) or not isinstance(y, Tensor) else y._operand(x)
    y = x._operand(y)
    return apply("where", cond, x, y)


def maximum(x: Tensor, y: Any) -> Tensor:
    """Elementwise maximum (ties share the gradient)."""
    return _tensor(x).maximum(y)


def minimum(x: Tensor, y: Any) -> Tensor:
    """Elementwise minimum (ties share the gradient)."""
    return _tensor(x).minimum(y)


def index_add(x: Tensor, index: Any, shape: Sequence[int]) -> Tensor:
    """A zero tensor of ``shape`` with ``x`` added at ``index`` (repeats accumulate).

    The adjoint of indexing: ``index_add(g, i, s)`` is the gradient of ``t[i]`` for ``t`` of
    shape ``s``.
    """
    from .indexing import numpy_index

    # x is laid out as PyTorch's t[i] would be; the op takes numpy's layout.
    np_index, permutation = numpy_index(index, len(shape))
    if permutation is not None:
        x = _tensor(x).permute(tuple(int(p) for p in np.argsort(permutation)))
    return apply("index_add", x, index=np_index, shape=tuple(shape))


def _conv_args(stride: IntPair, padding: IntPair, dilation: IntPair, groups: int,
               op: str = "conv2d") -> dict[str, Any]:
    """The shape-independent settings of a convolution, checked (also used by nn.Conv2d)."""
    return dict(stride=_pair(stride, "stride", op), padding=_pair(padding, "padding", op, 0),
                dilation=_pair(dilation, "dilation", op),
                groups=_int_at_least(groups, "groups", op))


def _conv_config(x_shape: Sequence[int], w_shape: Sequence[int], stride: IntPair,
                 padding: IntPair, dilation: IntPair, groups: int,
                 op: str = "conv2d") -> dict[str, Any]:
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) and weight (O, C/groups, KH, KW), "
                         f"got shapes {x_shape} and {w_shape}")
    conf = _conv_args(stride, padding, dilation, groups, op)
    groups = conf["groups"]
    if x_shape[1] % groups or w_shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels "
                         f"({x_shape[1]}) and the output channels ({w_shape[0]})")
    if w_shape[1] * groups != x_shape[1]:
        raise ValueError(f"{op}: weight of shape {w_shape} expects {w_shape[1] * groups} input "
                         f"channels (C/groups={w_shape[1]}, groups={groups}), but the input "
                         f"of shape {x_shape} has {x_shape[1]}")
    from .ops.conv import output_hw

    oh, ow = output_hw(x_shape[2:], w_shape[2:], conf["stride"], conf["padding"],
                       conf["dilation"])
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: kernel {w_shape[2:]} (dilation {conf['dilation']}) does not fit "
                         f"the input of shape {x_shape} with padding {conf['padding']}")
    return conf


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of an (N, C, H, W) input with (O, C/groups, KH, KW) weights.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> y = tg.conv2d(tg.ones(1, 1, 4, 4), tg.ones(2, 1, 3, 3), padding=1)
    >>> y.shape, y[0, 0, 1, 1].item()
    ((1, 2, 4, 4), 9.0)
    """
    conf = _conv_config(x.shape, weight.shape, stride, padding, dilation, groups)
    out = apply("conv2d", x, weight, **conf)
    if bias is None:
        return out
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return out + bias.reshape(1, -1, 1, 1)




def _pool_args(kernel_size: IntPair, stride: IntPair | None, padding: IntPair,
               op: str) -> dict[str, Any]:
    """The shape-independent settings of a pooling window, checked (also used by the
    nn.MaxPool2d / nn.AvgPool2d constructors)."""
    kernel = _pair(kernel_size, "kernel_size", op)
    conf = dict(kernel_size=kernel,
                stride=kernel if stride is None else _pair(stride, "stride", op),
                padding=_pair(padding, "padding", op, 0))
    if any(p > k // 2 for p, k in zip(conf["padding"], kernel)):
        raise ValueError(f"{op}: padding {conf['padding']} must be at most half the kernel "
                         f"size {kernel}")
    return conf


def _pool_config(x_shape: Sequence[int], kernel_size: IntPair, stride: IntPair | None,
                 padding: IntPair, op: str) -> dict[str, Any]:
    x_shape = tuple(x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"{op}: expected an (N, C, H, W) input, got shape {x_shape}")
    conf = _pool_args(kernel_size, stride, padding, op)
    kernel = conf["kernel_size"]
    if any(s + 2 * p < k for s, p, k in zip(x_shape[2:], conf["padding"], kernel)):
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input of shape "
                         f"{x_shape} (padding {conf['padding']})")
    return conf


def max_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0) -> Tensor:
    """Maximum over (kernel_size) windows; ``stride`` defaults to the kernel size.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    conf = _pool_config(x.shape, kernel_size, stride, padding, "max_pool2d")
    return apply("max_pool2d", x, **conf)


def avg_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0) -> Tensor:
    """Mean over (kernel_size) windows, zero padding included in the count (PyTorch's default)."""
    conf = _pool_config(x.shape, kernel_size, stride, padding, "avg_pool2d")
    return apply("avg_pool2d", x, **conf)



def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (stable)."""
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Log-softmax along ``axis`` (stable)."""
    return x.log_softmax(axis)

