"""Dimension arguments and indices, checked and normalised the way PyTorch does.

``wrap_dim`` and the ``*_shape`` helpers turn the dimension arguments of ``squeeze``,
``unsqueeze``, ``transpose``, ``flatten`` and ``expand`` into positive ones, raising
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
    """``dim`` as a positive axis of a tensor of ``shape`` (``extra`` more positions for
    ``unsqueeze``); a 0-d tensor accepts -1 and 0, as in PyTorch.

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
    """The shape after ``squeeze(axis)``: the listed size-1 axes removed (all when None)."""
    if axis is None:
        return tuple(s for s in shape if s != 1)
    dims = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    drop = {wrap_dim(d, shape, "squeeze") for d in dims}
    return tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))


def unsqueeze_shape(shape: tuple[int, ...], dim: Any) -> tuple[int, ...]:
    """The shape after ``unsqueeze(dim)``, with ``dim`` in [-ndim-1, ndim]."""
    position = wrap_dim(dim, shape, "unsqueeze", extra=1)
    return shape[:position] + (1,) + shape[position:]


def transpose_axes(shape: tuple[int, ...], dim0: Any, dim1: Any) -> tuple[int, ...]:
    """The permutation that swaps ``dim0`` and ``dim1``."""
    axes = list(range(len(shape)))
    a, b = wrap_dim(dim0, shape, "transpose", "dim0"), wrap_dim(dim1, shape, "transpose", "dim1")
    if axes:  # (a 0-d tensor accepts 0/-1 and stays as it is)
        axes[a], axes[b] = axes[b], axes[a]
    return tuple(axes)


def flatten_shape(shape: tuple[int, ...], start_dim: Any, end_dim: Any) -> tuple[int, ...]:
    """The shape after ``flatten(start_dim, end_dim)``; a 0-d tensor becomes shape (1,)."""
    start = wrap_dim(start_dim, shape, "flatten", "start_dim")
    end = wrap_dim(end_dim, shape, "flatten", "end_dim")
    if start > end:
        raise RuntimeError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for a "
                           f"tensor of shape {shape}")
    if not shape:
        return (1,)
    return shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]


def expand_shape(shape: tuple[int, ...], target: Sequence[Any]) -> tuple[int, ...]:
    """``target`` with each -1 replaced by the existing size; -1 is refused in new leading
    dimensions (numpy would silently take a size from the other end)."""
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
