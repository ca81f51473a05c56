"""Argument conventions shared by Tensor methods: PyTorch's `dim` beside numpy's `axis`,
shapes given as `(2, 3)` or `2, 3`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Axis = int | Sequence[int] | None


def as_tuple(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept both `t.reshape(2, 3)` and `t.reshape((2, 3))`."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def pick_axis(axis: Axis, dim: Axis) -> Axis:
    """`dim` is PyTorch's name for numpy's `axis`; accept either, not both."""
    if dim is not None:
        if axis is not None:
            raise TypeError("pass either axis= or its alias dim=, not both")
        return dim
    return axis
