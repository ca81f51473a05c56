"""Dimension arguments and indices, checked and normalised the way PyTorch does.

Indexing rule (`Tensor.__getitem__`, `__setitem__`, `functional.index_add`): as in
PyTorch, an integer index is a `select` applied first; the advanced indices (integer
arrays, lists, boolean masks) then place their dimensions by numpy's rule, where they stand
if adjacent and first otherwise. For `t` of shape (2, 3, 4), `t[1, :, [0, 1]]` has
shape (3, 2) (numpy: (2, 3)). A 0-d integer Tensor or array counts as an integer. Negative
slice steps are accepted (PyTorch refuses them).

`wrap_dim` and the `*_shape` helpers turn the dimension arguments of `squeeze`,
`unsqueeze`, `transpose`, `flatten` and `expand` into positive ones, raising
PyTorch's exception types (IndexError for a dimension out of range, RuntimeError for
inconsistent arguments) with a message naming the method, the argument and the shape,
where numpy would silently wrap around.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def wrap_dim(dim: Any, shape: tuple[int, ...], op: str, arg: str = "dim",
             extra: int = 0) -> int:
    """`dim` as a positive axis of a tensor of `shape` (`extra` more positions for
    `unsqueeze`); a 0-d tensor accepts -1 and 0, as in PyTorch.

    Parameters
    ----------
    dim : int
        The axis asked for, negative counting from the end (not a bool).
    shape : tuple of int
        The tensor's shape.
    op : str
        The calling function, named in the errors (TypeError, IndexError).
    arg : str, default "dim"
        The argument's name, for the errors.
    extra : int, default 0
        Positions beyond the last axis that are valid too (1 for `unsqueeze`).

    Examples
    --------
    >>> wrap_dim(-1, (4, 3), "squeeze")
    1
    """
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: {arg} must be an integer, got {dim!r}")
    size = max(len(shape) + extra, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: {arg}={dim} is out of range for a tensor of shape {shape} "
                         f"(expected to be in range of [{-size}, {size - 1}])")
    return int(dim) % size


def squeeze_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape after `squeeze(axis)`: the listed size-1 axes removed (all when None).

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape.
    axis : int, tuple of int or None
        The axes to drop if their size is 1 (others stay); every size-1 axis when None.
    """
    if axis is None:
        return tuple(s for s in shape if s != 1)
    if isinstance(axis, (int, np.integer)):
        dims = (axis,)
    elif isinstance(axis, (tuple, list)):
        dims = tuple(axis)
    else:
        raise TypeError(f"squeeze: dim must be an integer or a tuple of integers, got {axis!r}")
    drop = {wrap_dim(d, shape, "squeeze") for d in dims}
    return tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))


def unsqueeze_shape(shape: tuple[int, ...], dim: Any) -> tuple[int, ...]:
    """The shape after `unsqueeze(dim)`, with `dim` in [-ndim-1, ndim].

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape.
    dim : int
        Where the new size-1 axis goes, in [-ndim-1, ndim].
    """
    position = wrap_dim(dim, shape, "unsqueeze", extra=1)
    return shape[:position] + (1,) + shape[position:]


def transpose_axes(shape: tuple[int, ...], dim0: Any, dim1: Any) -> tuple[int, ...]:
    """The permutation that swaps `dim0` and `dim1`.

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape.
    dim0, dim1 : int
        The two axes swapped.
    """
    axes = list(range(len(shape)))
    a, b = wrap_dim(dim0, shape, "transpose", "dim0"), wrap_dim(dim1, shape, "transpose", "dim1")
    if axes:  # (a 0-d tensor accepts 0/-1 and stays as it is)
        axes[a], axes[b] = axes[b], axes[a]
    return tuple(axes)


def flatten_shape(shape: tuple[int, ...], start_dim: Any, end_dim: Any) -> tuple[int, ...]:
    """The shape after `flatten(start_dim, end_dim)`; a 0-d tensor becomes shape (1,).

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape.
    start_dim, end_dim : int
        The first and last axes merged (inclusive; negative count from the end).
    """
    start = wrap_dim(start_dim, shape, "flatten", "start_dim")
    end = wrap_dim(end_dim, shape, "flatten", "end_dim")
    if start > end:
        raise RuntimeError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for a "
                           f"tensor of shape {shape}")
    if not shape:
        return (1,)
    return shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]


def expand_shape(shape: tuple[int, ...], target: Sequence[Any]) -> tuple[int, ...]:
    """`target` with each -1 replaced by the existing size; -1 is refused in new leading
    dimensions (numpy would silently take a size from the other end).

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape.
    target : sequence of int
        The new shape, at least as many dims; -1 keeps an existing size.
    """
    lead = len(target) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(target)}) must be at "
                           f"least the number of dimensions of the tensor, shape {shape}")
    out = []
    for i, s in enumerate(target):
        if s == -1 and i < lead:
            raise RuntimeError(f"expand: size -1 is not allowed in a new leading dimension "
                               f"(position {i} of {tuple(target)}, tensor shape {shape})")
        out.append(shape[i - lead] if s == -1 else s)
    return tuple(out)


def _consumed(item: Any) -> int:
    """How many dimensions of the indexed tensor an index entry uses up."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return item.ndim
    return 1


def torch_index(items: tuple[Any, ...], ndim: int) -> tuple[tuple[Any, ...],
                                                            tuple[int, ...] | None]:
    """Turn index entries into a numpy index and the permutation that makes numpy's result
    PyTorch's: `(numpy_index, permutation or None)`.

    PyTorch applies an integer as a `select` before the advanced (array, mask) indices, and
    only then places the advanced dimensions by numpy's rule: where the arrays stand if they
    are adjacent, first otherwise. numpy counts the integers among the advanced indices, so
    `x[1, :, idx]` on shape (2, 3, 4) is (2, 3) in numpy but (3, 2) in PyTorch. Both keep
    the other dimensions in order, so the two results differ by moving the block of advanced
    dimensions, which the returned permutation does. Lists become arrays and 0-d integer
    arrays become integers, as in PyTorch.

    Parameters
    ----------
    items : tuple
        The entries of the index: ints, slices, None, Ellipsis, integer or boolean arrays,
        lists.
    ndim : int
        The number of dims of the tensor indexed.

    Examples
    --------
    >>> torch_index((1, slice(None), np.array([0, 1])), 3)[1]
    (1, 0)
    """
    entries = []
    for item in items:
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "iu":
            item = int(item)
        entries.append(item)
    index = tuple(entries)

    def is_int(i: Any) -> bool:
        return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))

    def is_array(i: Any) -> bool:
        return isinstance(i, np.ndarray) and i.ndim > 0

    arrays = [p for p, i in enumerate(index) if is_array(i)]
    if not arrays or any(
            isinstance(i, (bool, np.bool_)) or (isinstance(i, np.ndarray) and i.ndim == 0)
            for i in index):
        return index, None  # numpy's and PyTorch's rules agree (or numpy's rule is kept)
    free = ndim - sum(_consumed(i) for i in index)
    # Output dimensions each entry contributes outside the advanced block.
    basic = [1 if isinstance(i, slice) or i is None else free if i is Ellipsis else 0
             for i in index]

    def block_position(advanced: list[int], gaps_allowed: Any) -> int:
        first, last = advanced[0], advanced[-1]
        adjacent = all(p in advanced or gaps_allowed(index[p]) for p in range(first, last + 1))
        return sum(basic[:first]) if adjacent else 0

    # numpy counts any Ellipsis between advanced indices as a separator; PyTorch expands it
    # first, so one that stands for no dimension separates nothing (checked against torch).
    numpy_at = block_position([p for p, i in enumerate(index) if is_array(i) or is_int(i)],
                              lambda i: False)
    torch_at = block_position(arrays, lambda i: is_int(i) or (i is Ellipsis and free == 0))
    if numpy_at == torch_at:
        return index, None
    k = max(1 if index[p].dtype == np.bool_ else index[p].ndim for p in arrays)
    n_basic = sum(basic) + (0 if any(i is Ellipsis for i in index) else free)
    numpy_layout = ([("b", j) for j in range(numpy_at)] + [("a", j) for j in range(k)]
                    + [("b", j) for j in range(numpy_at, n_basic)])
    torch_layout = ([("b", j) for j in range(torch_at)] + [("a", j) for j in range(k)]
                    + [("b", j) for j in range(torch_at, n_basic)])
    return index, tuple(numpy_layout.index(label) for label in torch_layout)


def numpy_index(index: Any, ndim: int) -> tuple[tuple[Any, ...], tuple[int, ...] | None]:
    """`torch_index` of a user's index: Tensors become arrays and a single entry a tuple
    (so the index can be stored on the graph and reused).

    Parameters
    ----------
    index : any
        What the user wrote between the brackets: one entry or a tuple, Tensors allowed.
    ndim : int
        The number of dims of the tensor indexed.
    """
    from .tensor import Tensor  # (tensor.py imports this module)

    items = index if isinstance(index, tuple) else (index,)
    return torch_index(tuple(i.data if isinstance(i, Tensor) else i for i in items), ndim)


def assign(data: np.ndarray, index: tuple[Any, ...], permutation: tuple[int, ...] | None,
           value: Any) -> None:
    """`data[index] = value` where `value` is laid out as PyTorch's `data[index]`.

    Parameters
    ----------
    data : ndarray
        The array written into, in place.
    index : tuple
        The numpy index from `torch_index`.
    permutation : tuple of int or None
        The permutation `torch_index` returned (None when numpy's and PyTorch's layouts agree).
    value : array-like
        The values, broadcastable to PyTorch's layout of `data[index]`.
    """
    if permutation is not None:
        torch_shape = tuple(data[index].shape[p] for p in permutation)  # (a copy: advanced)
        value = np.broadcast_to(value, torch_shape).transpose(np.argsort(permutation))
    data[index] = value
