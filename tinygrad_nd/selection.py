"""PyTorch's selection functions: gather / scatter (the ops in `tinygrad_nd/ops/selection.py`),
`index_select`, masks, `take_along_dim` and `nonzero`.

Each checks its arguments as PyTorch does (errors name the function, the argument and the
shapes) and then calls registered ops. Exported as `tinygrad_nd.<name>` and reached as
Tensor methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .indexing import wrap_dim
from .ops.selection import SCATTER_REDUCTIONS, check_index
from .registry import apply
from .tensor import Tensor


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _index_array(index: Any, op: str, arg: str = "index") -> np.ndarray:
    """An index argument (Tensor, array, list or int) as an integer array, or a TypeError."""
    arr = np.asarray(index.data if isinstance(index, Tensor) else index)
    if arr.dtype.kind not in "iu" or arr.dtype == np.bool_:
        raise TypeError(f"{op}: {arg} must be an integer tensor, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _selection(x: Any, dim: Any, index: Any, op: str,
               src_shape: tuple[int, ...] | None = None) -> tuple[Tensor, int, np.ndarray]:
    """The checked (tensor, positive dim, index) of a gather/scatter call."""
    x = _tensor(x)
    d = wrap_dim(dim, x.shape, op)
    others = () if src_shape is None else (("src", src_shape),)
    return x, d, check_index(_index_array(index, op), x.shape, d, op, others)


def gather(input: Any, dim: int, index: Any) -> Tensor:
    """`out[i][j] = input[index[i][j]][j]` for `dim=0` (and so on for other dims).

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    dim : int
        The axis the indices run along (negative counts from the end).
    index : Tensor or array-like of int
        As many dims as `input`, no larger than it in the other dims; the result has its
        shape. Entries in [0, input.shape[dim]).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.gather(tg.Tensor([[1.0, 2.0], [3.0, 4.0]]), 1, tg.tensor([[0, 0], [1, 0]])).tolist()
    [[1.0, 1.0], [4.0, 3.0]]
    """
    x, d, idx = _selection(input, dim, index, "gather")
    return apply("gather", x, dim=d, index=idx)


def _scatter_src(x: Tensor, src: Any, index: np.ndarray, op: str) -> Tensor:
    """`src` as a Tensor of `x`'s dtype: a scalar fills index's shape."""
    if isinstance(src, Tensor):
        if src.dtype != x.dtype:
            raise TypeError(f"{op}: src must have the dtype of self ({x.dtype}), got {src.dtype}")
        if src.ndim != x.ndim:
            raise RuntimeError(f"{op}: src of shape {src.shape} must have as many dims as "
                               f"self of shape {x.shape}")
        return src
    if np.ndim(src):
        return _scatter_src(x, Tensor(np.asarray(src), dtype=x.dtype), index, op)
    return Tensor._make(np.full(index.shape, src, dtype=x.dtype), None)


def scatter(input: Any, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
    """A copy of `input` with `src` (a tensor, or a scalar `value`) written at `index`
    along `dim`; where a place is written twice the last write wins (PyTorch: unspecified).

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    dim : int
        The axis the indices run along (negative counts from the end).
    index : Tensor or array-like of int
        Where each element of `src` goes along `dim`; as many dims as `input`.
    src : Tensor or number, optional
        The values written (a tensor at least as large as `index`, or a scalar); give this
        or `value`.
    value : number, optional
        A scalar to write instead of `src` (keyword only).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.scatter(tg.zeros(3), 0, tg.tensor([2, 0]), tg.Tensor([5.0, 6.0])).tolist()
    [6.0, 0.0, 5.0]
    """
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src (a tensor or scalar) and value")
    x = _tensor(input)
    src = value if src is None else src
    probe = src.shape if isinstance(src, Tensor) else None
    x, d, idx = _selection(x, dim, index, "scatter", probe)
    return apply("scatter", x, _scatter_src(x, src, idx, "scatter"), dim=d, index=idx)


def scatter_reduce(input: Any, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of `input` with `src` reduced into the places named by `index` along
    `dim`: `reduce` is "sum", "mean", "amax" or "amin"; `include_self=False` leaves the
    old values of the written places out. Gradients as PyTorch (amax/amin: shared equally
    among the elements equal to the result).

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    dim : int
        The axis the indices run along (negative counts from the end).
    index : Tensor or array-like of int
        Where each element of `src` goes along `dim`; as many dims as `input`.
    src : Tensor or number
        The values reduced in.
    reduce : {"sum", "mean", "amax", "amin"}
        How the values meeting at one place (and its old value) combine.
    include_self : bool, default True
        Include the old value of each written place in the reduction (keyword only).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> idx, src = tg.tensor([0, 0, 2]), tg.Tensor([1.0, 5.0, 2.0])
    >>> tg.scatter_reduce(tg.zeros(3), 0, idx, src, "amax").tolist()
    [5.0, 0.0, 2.0]
    """
    if reduce not in SCATTER_REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {SCATTER_REDUCTIONS}, got "
                         f"{reduce!r}")
    x = _tensor(input)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
    x, d, idx = _selection(x, dim, index, "scatter_reduce", src.shape)
    return apply("scatter_reduce", x, _scatter_src(x, src, idx, "scatter_reduce"), dim=d,
                 index=idx, reduce=reduce, include_self=bool(include_self))


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of `input` with `src` added at `index` along `dim` (repeats add up).

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    dim : int
        The axis the indices run along (negative counts from the end).
    index : Tensor or array-like of int
        Where each element of `src` goes along `dim`; as many dims as `input`.
    src : Tensor or number
        The values added.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.scatter_add(tg.zeros(2), 0, tg.tensor([1, 1]), tg.ones(2)).tolist()
    [0.0, 2.0]
    """
    return scatter_reduce(input, dim, index, src, "sum")


def index_select(input: Any, dim: int, index: Any) -> Tensor:
    """The entries of `input` at the positions `index` (1-D or 0-d) along `dim`.

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    dim : int
        The axis the indices run along (negative counts from the end).
    index : Tensor or array-like of int
        Positions along `dim`, 1-D or 0-d, each in [0, input.shape[dim]) (repeats allowed).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.index_select(tg.arange(6.0).reshape(2, 3), 1, tg.tensor([2, 0])).tolist()
    [[2.0, 0.0], [5.0, 3.0]]
    """
    x = _tensor(input)
    d = wrap_dim(dim, x.shape, "index_select")
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select: index must be 1-D or 0-d, got shape {idx.shape}")
    size = x.shape[d] if x.ndim else 1
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise IndexError(f"index_select: index {int(bad[0])} is out of range for dimension {d} "
                         f"with size {size}")
    if x.ndim == 0:  # PyTorch: a 0-d tensor takes one index and stays 0-d
        if idx.size != 1:
            raise IndexError(f"index_select: a 0-d tensor takes one index, got {idx.size}")
        return x.reshape(1)[0]
    return x[(slice(None),) * d + (idx.reshape(-1),)]


def _bool_mask(mask: Any, op: str) -> np.ndarray:
    arr = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if arr.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {arr.dtype}")
    return arr


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    """`input` with `value` (a number or a 0-d tensor, which gets a gradient) where the
    bool `mask` (broadcast) is True.

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    mask : Tensor or array-like of bool
        Where to write; broadcasts to `input`'s shape.
    value : number or 0-d Tensor
        The value written (a 0-d tensor gets the gradient of the places it fills).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0])
    >>> tg.masked_fill(x, x > 1.5, 0.0).tolist()
    [1.0, 0.0, 0.0]
    """
    x = _tensor(input)
    m = _bool_mask(mask, "masked_fill")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"masked_fill: value must be a 0-d tensor or a number, got a tensor "
                           f"of shape {value.shape}")
    try:
        np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: mask of shape {m.shape} does not broadcast with the "
                           f"tensor of shape {x.shape}") from None
    if isinstance(value, Tensor):
        value = value.astype(x.dtype) if value.dtype != x.dtype else value
    else:
        value = Tensor._make(np.asarray(value, dtype=x.dtype), None)
    return apply("where", Tensor._make(m, None), value, x)


def masked_select(input: Any, mask: Any) -> Tensor:
    """The 1-D tensor of the entries of `input` where the bool `mask` holds (the two are
    broadcast together first).

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    mask : Tensor or array-like of bool
        Which entries to keep; broadcast with `input`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([[1.0, -2.0], [-3.0, 4.0]])
    >>> tg.masked_select(x, x > 0).tolist()
    [1.0, 4.0]
    """
    x = _tensor(input)
    m = _bool_mask(mask, "masked_select")
    try:
        shape = np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: mask of shape {m.shape} does not broadcast with the "
                           f"tensor of shape {x.shape}") from None
    if x.shape != shape:
        x = x.expand(shape)
    return x.reshape(-1)[np.broadcast_to(m, shape).reshape(-1)]


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:
    """Gather along `dim` after broadcasting `input` and `indices` in the other dims;
    with `dim=None` both are flattened first.

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    indices : Tensor or array-like of int
        Positions along `dim`; as many dims as `input` (broadcast with it in the others).
    dim : int, optional
        The axis; with None both are flattened first.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([[3.0, 1.0], [0.0, 5.0]])
    >>> tg.take_along_dim(x, tg.tensor([[0], [1]]), 1).tolist()
    [[3.0], [5.0]]
    """
    x, idx = _tensor(input), _index_array(indices, "take_along_dim", "indices")
    if dim is None:
        return gather(x.reshape(-1), 0, idx.reshape(-1))
    if idx.ndim != x.ndim:
        raise RuntimeError(f"take_along_dim: indices of shape {idx.shape} must have as many dims "
                           f"as the tensor of shape {x.shape}")
    d = wrap_dim(dim, x.shape, "take_along_dim")
    try:
        lead = np.broadcast_shapes(x.shape[:d] + x.shape[d + 1:], idx.shape[:d] + idx.shape[d + 1:])
    except ValueError:
        raise RuntimeError(f"take_along_dim: indices of shape {idx.shape} and the tensor of shape "
                           f"{x.shape} do not broadcast outside dim {d}") from None
    x_shape = lead[:d] + x.shape[d:d + 1] + lead[d:]
    idx = np.broadcast_to(idx, lead[:d] + idx.shape[d:d + 1] + lead[d:])
    return gather(x if x.shape == x_shape else x.expand(x_shape), d, idx)


def nonzero(input: Any, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The positions of the non-zero entries: an (n, ndim) int64 tensor, or with
    `as_tuple=True` one 1-D tensor per dim (a 0-d input counts as 1-D). No gradient.

    Parameters
    ----------
    input : Tensor or array-like
        The source tensor.
    as_tuple : bool, default False
        Return one 1-D index tensor per dim instead of one (n, ndim) tensor (keyword only).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.nonzero(tg.Tensor([0.0, 2.0, 3.0])).tolist()
    [[1], [2]]
    """
    data = _tensor(input).data
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), None)
                     for i in np.nonzero(data.reshape(-1) if data.ndim == 0 else data))
    positions = np.argwhere(data).astype(np.int64)
    return Tensor._make(positions, None)
