"""Module-level functions on tensors: joins and selections.

Each is a thin, validating front end to registered ops, so shape errors name the op and the
shapes involved before any numpy error can surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .diagonals import diag_embed, diagonal, tril, triu  # noqa: F401  (re-exported)
from .einsum import baddbmm, bmm, einsum, outer, tensordot  # noqa: F401
from .ops.reduce import logsumexp, norm, prod, vector_norm  # noqa: F401
from .ops.scan import cumprod, cumsum, logcumsumexp  # noqa: F401
from .ops.sort import kthvalue, median, sort, topk  # noqa: F401
from .pointwise import (  # noqa: F401  (part "math" of issue #14: elementwise math, re-exported)
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    clamp,
    clip,
    cos,
    cosh,
    erf,
    exp2,
    expm1,
    fix,
    floor,
    fmod,
    frac,
    hypot,
    lerp,
    log1p,
    log2,
    log10,
    reciprocal,
    remainder,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    square,
    tan,
    trunc,
)
from .registry import apply
from .reshaping import (  # noqa: F401  (p14-select: PyTorch's shape functions, re-exported)
    chunk,
    flip,
    moveaxis,
    movedim,
    narrow,
    repeat,
    repeat_interleave,
    roll,
    swapaxes,
    swapdims,
    tile,
    unbind,
    unflatten,
)
from .selection import (  # noqa: F401  (p14-select: gather/scatter family, re-exported)
    gather,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    scatter_reduce,
    take_along_dim,
)
from .tensor import Tensor

# (above: reductions, scans, selections and contractions, defined beside their ops and
# re-exported here; max/min/all/any are in reductions.py, where they shadow no builtin used)

IntPair = int | tuple[int, int]


def _is_int(value: Any) -> bool:
    """A Python or numpy integer, but not a bool (True would silently mean 1)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _int_at_least(value: Any, name: str, op: str, minimum: int = 1) -> int:
    """`value` as an int, or a TypeError (not an int) / ValueError (below `minimum`)
    naming `op` and the argument."""
    if not _is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def _real_in(value: Any, name: str, op: str, low: float, high: float = float("inf"),
             closed: bool = False) -> float:
    """`value` as a float if it is a finite real number in [low, high) (or [low, high] when
    `closed`); else a TypeError (bools, strings, complex) or ValueError naming the argument."""
    if isinstance(value, (bool, np.bool_, complex, np.complexfloating)) or \
            not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    inside = low <= value <= high if closed else low <= value < high
    if not (inside and np.isfinite(value)):
        raise ValueError(f"{op}: {name} must be in [{low:g}, {high:g}{']' if closed else ')'}, "
                         f"got {value!r}")
    return float(value)


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def cat(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis.

    Parameters
    ----------
    tensors : sequence of Tensors
        The tensors (equal shapes but along `axis`).
    axis : int
        The axis to join along.
    dim : int, optional
        PyTorch's name for `axis` (wins when given).

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

    Parameters
    ----------
    tensors : sequence of Tensors
        The tensors.
    axis : int
        The axis of the result that indexes them.
    dim : int, optional
        PyTorch's name for `axis` (wins when given).

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
    """Split into pieces of `split_size` (int) or of the listed sizes, along `axis`.

    Parameters
    ----------
    x : Tensor
        The input.
    split_size_or_sections : int or sequence of int
        Size of each piece (the last may be smaller), or the sizes of all pieces.
    axis : int
        The axis to split.

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
    """`x` where `condition` holds, else `y` (broadcast together).

    Parameters
    ----------
    condition : bool array or Tensor
        Where to take `x`.
    x, y : Tensor, array or number
        The values; gradients flow to each where it was chosen.

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
    """Elementwise maximum (ties share the gradient).

    Parameters
    ----------
    x : Tensor
        The first operand.
    y : Tensor, array or number
        The second operand (broadcast).
    """
    return _tensor(x).maximum(y)


def minimum(x: Tensor, y: Any) -> Tensor:
    """Elementwise minimum (ties share the gradient).

    Parameters
    ----------
    x : Tensor
        The first operand.
    y : Tensor, array or number
        The second operand (broadcast).
    """
    return _tensor(x).minimum(y)


def index_add(x: Tensor, index: Any, shape: Sequence[int]) -> Tensor:
    """A zero tensor of `shape` with `x` added at `index` (repeats accumulate).

    The adjoint of indexing: `index_add(g, i, s)` is the gradient of `t[i]` for `t` of
    shape `s`.

    Parameters
    ----------
    x : Tensor
        The values to add, shaped like `zeros(shape)[index]`.
    index : index
        Any index valid for a tensor of `shape`.
    shape : sequence of int
        The result's shape.
    """
    from .indexing import numpy_index

    # x is laid out as PyTorch's t[i] would be; the op takes numpy's layout.
    np_index, permutation = numpy_index(index, len(shape))
    if permutation is not None:
        x = _tensor(x).permute(tuple(int(p) for p in np.argsort(permutation)))
    return apply("index_add", x, index=np_index, shape=tuple(shape))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax along `axis` (stable).

    Parameters
    ----------
    x : Tensor
        The logits.
    axis : int
        The axis that sums to 1.
    """
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Log-softmax along `axis` (stable).

    Parameters
    ----------
    x : Tensor
        The logits.
    axis : int
        The axis whose exponentials sum to 1.
    """
    return x.log_softmax(axis)


def __getattr__(name: str) -> Any:
    # The convolution family lives in nn.functional (PyTorch's F), which imports this module;
    # `tinygrad_nd.functional.conv2d` etc. keep working, resolved on first use.
    if name in ("conv2d", "max_pool2d", "avg_pool2d"):
        from .nn import functional as nn_functional

        return getattr(nn_functional, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
