"""Tensor methods of the shape and indexing ops (`tinygrad_nd/ops/movement.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import indexing
from ..registry import apply
from ._args import Axis, as_tuple, pick_axis

if TYPE_CHECKING:
    from ..tensor import Tensor


class _Functional:
    """`tinygrad_nd.functional`, looked up at call time: it imports `Tensor`, which
    inherits these methods, so it cannot be imported when this module loads."""

    def __getattr__(self, name: str) -> Any:
        from .. import functional

        return getattr(functional, name)


F: Any = _Functional()


class MovementMethods:
    """Mixed into `tinygrad_nd.Tensor`."""

    __slots__ = ()

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """Same data, new shape (one entry may be -1)."""
        return apply("reshape", self, shape=as_tuple(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes `start_dim..end_dim` into one."""
        return self.reshape(indexing.flatten_shape(self.shape, start_dim, end_dim))

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """Reorder axes (numpy's `transpose(axes)`)."""
        return apply("permute", self, axes=as_tuple(axes))

    def transpose(self, axis0: int = -2, axis1: int = -1) -> Tensor:
        """Swap two axes."""
        return self.permute(indexing.transpose_axes(self.shape, axis0, axis1))

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Remove size-1 axes (all of them when `axis` is None); IndexError out of range."""
        return self.reshape(indexing.squeeze_shape(self.shape, pick_axis(axis, dim)))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert a size-1 axis at position `axis` (`dim` is PyTorch's name for it)."""
        return self.reshape(indexing.unsqueeze_shape(self.shape, pick_axis(axis, dim)))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to `shape` without copying (PyTorch name; -1 keeps a size)."""
        return apply("expand", self, shape=indexing.expand_shape(self.shape, as_tuple(shape)))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Broadcast to `shape` (numpy name)."""
        return apply("expand", self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        np_index, permutation = indexing.numpy_index(index, self.ndim)
        out = apply("getitem", self, index=np_index)
        return out if permutation is None else out.permute(permutation)

    def pad(self, pad_width: Any, value: float = 0.0, mode: str = "constant") -> Tensor:
        """numpy's `pad`: `pad_width` per dim (first dim first), `mode` "constant"
        (with `value`), "reflect", "edge" or "wrap"; PyTorch's order, names and cropping
        are `tinygrad_nd.nn.functional.pad`."""
        return apply("pad", self, pad_width=_pad_width(pad_width, self.ndim), value=value,
                     mode=mode)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        """Split into chunks of a size (int) or of the given sizes (list), along `axis`."""
        from ..functional import split

        return split(self, split_size_or_sections, axis)

    # ---- p14-select: selection and scatter (tinygrad_nd/selection.py, ops/selection.py) ---
    def __setitem__(self, index: Any, value: Any) -> None:
        """In place, PyTorch's indexing rule (`tinygrad_nd/indexing.py`). Not recorded: a
        tensor that requires grad (leaf or not) refuses it under grad mode, as PyTorch
        refuses it for a leaf; use `where`/`scatter`/`masked_fill` out of place."""
        from .. import autograd
        from ..tensor import Tensor

        if autograd.is_grad_enabled():
            if self.requires_grad:
                kind = "a leaf Variable" if self.is_leaf else "a tensor"
                raise RuntimeError(f"__setitem__: {kind} that requires grad is being used in an "
                                   f"in-place operation (shape {self.shape}); assign under "
                                   "tg.no_grad(), or use where/scatter/masked_fill")
            if isinstance(value, Tensor) and value.requires_grad:
                raise RuntimeError("__setitem__: the value requires grad, but assignment is not "
                                   "recorded; use where/scatter/masked_fill out of place")
        np_index, permutation = indexing.numpy_index(index, self.ndim)
        indexing.assign(self._inplace("__setitem__"), np_index, permutation, self._value(value))

    def gather(self, dim: int, index: Any) -> Tensor:
        """Entries picked along `dim` by `index` (see `tinygrad_nd.gather`)."""
        return F.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with `src` (or `value`) written at `index` along `dim`."""
        return F.scatter(self, dim, index, src, value=value)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """A copy with `src` added at `index` along `dim`."""
        return F.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim: int, index: Any, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """A copy with `src` reduced ("sum", "mean", "amax", "amin") at `index`."""
        return F.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The entries at positions `index` along `dim`."""
        return F.index_select(self, dim, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """`value` where the bool `mask` holds."""
        return F.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Tensor:
        """The 1-D tensor of the entries where `mask` holds."""
        return F.masked_select(self, mask)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """`gather` with broadcasting (flattened when `dim` is None)."""
        return F.take_along_dim(self, indices, dim)

    def nonzero(self, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
        """Positions of the non-zero entries (no gradient)."""
        return F.nonzero(self, as_tuple=as_tuple)

    # ---- p14-select: shape functions (tinygrad_nd/reshaping.py) ------------------------
    def flip(self, *dims: int | Sequence[int]) -> Tensor:
        """Reverse the order of entries along `dims`."""
        return F.flip(self, as_tuple(dims))

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
             ) -> Tensor:
        """Shift entries along `dims`, wrapping around."""
        return F.roll(self, shifts, dims)

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """Tile `sizes[i]` times along dim `i`."""
        return F.repeat(self, *sizes)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        """Repeat each entry `repeats` times along `dim` (flattened when None)."""
        return F.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *dims: int | Sequence[int]) -> Tensor:
        """`repeat`, with missing leading dims taken as 1."""
        return F.tile(self, as_tuple(dims))

    def chunk(self, chunks: int, dim: int = 0) -> list[Tensor]:
        """At most `chunks` equal pieces along `dim`."""
        return F.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, that dim removed."""
        return F.unbind(self, dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Split dim `dim` into `sizes`."""
        return F.unflatten(self, dim, sizes)

    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """Move dims `source` to `destination`."""
        return F.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Swap two dims (`swapdims`, `transpose(dim0, dim1)`)."""
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        """Entries `start .. start + length` along `dim`."""
        return F.narrow(self, dim, start, length)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims."""
        return F.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims."""
        return F.triu(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """Diagonal `offset` of the (dim1, dim2) matrices, as the last dim."""
        return F.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Matrices whose diagonal `offset` holds the last dim."""
        return F.diag_embed(self, offset, dim1, dim2)


def _pad_width(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    arr = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (arr < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width}")
    return tuple((int(a), int(b)) for a, b in arr)
