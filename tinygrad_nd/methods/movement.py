"""Tensor methods of the shape and indexing ops (``tinygrad_nd/ops/movement.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import indexing
from ..registry import apply
from ._args import Axis, as_tuple, pick_axis

if TYPE_CHECKING:
    from ..tensor import Tensor


class MovementMethods:
    """Mixed into :class:`~tinygrad_nd.Tensor`."""

    __slots__ = ()

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """Same data, new shape (one entry may be -1)."""
        return apply("reshape", self, shape=as_tuple(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes ``start_dim..end_dim`` into one."""
        return self.reshape(indexing.flatten_shape(self.shape, start_dim, end_dim))

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """Reorder axes (numpy's ``transpose(axes)``)."""
        return apply("permute", self, axes=as_tuple(axes))

    def transpose(self, axis0: int = -2, axis1: int = -1) -> Tensor:
        """Swap two axes."""
        return self.permute(indexing.transpose_axes(self.shape, axis0, axis1))

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Remove size-1 axes (all of them when ``axis`` is None); IndexError out of range."""
        return self.reshape(indexing.squeeze_shape(self.shape, pick_axis(axis, dim)))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert a size-1 axis at position ``axis`` (``dim`` is PyTorch's name for it)."""
        return self.reshape(indexing.unsqueeze_shape(self.shape, pick_axis(axis, dim)))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` without copying (PyTorch name; -1 keeps a size)."""
        return apply("expand", self, shape=indexing.expand_shape(self.shape, as_tuple(shape)))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` (numpy name)."""
        return apply("expand", self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        np_index, permutation = indexing.numpy_index(index, self.ndim)
        out = apply("getitem", self, index=np_index)
        return out if permutation is None else out.permute(permutation)

    def pad(self, pad_width: Any, value: float = 0.0) -> Tensor:
        """Constant padding, numpy's ``pad_width`` convention."""
        return apply("pad", self, pad_width=_pad_width(pad_width, self.ndim), value=value)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        """Split into chunks of a size (int) or of the given sizes (list), along ``axis``."""
        from ..functional import split

        return split(self, split_size_or_sections, axis)


def _pad_width(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    arr = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (arr < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width}")
    return tuple((int(a), int(b)) for a, b in arr)
