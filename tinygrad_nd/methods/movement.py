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
        """Merge axes `start_dim..end_dim` into one.

        Parameters
        ----------
        start_dim : int, default 0
            The first axis merged.
        end_dim : int, default -1
            The last axis merged (inclusive).
        """
        return self.reshape(indexing.flatten_shape(self.shape, start_dim, end_dim))

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """Reorder axes (numpy's `transpose(axes)`)."""
        return apply("permute", self, axes=as_tuple(axes))

    def transpose(self, axis0: int = -2, axis1: int = -1) -> Tensor:
        """Swap two axes.

        Parameters
        ----------
        axis0, axis1 : int, default -2 and -1
            The two axes swapped (PyTorch's dim0, dim1).
        """
        return self.permute(indexing.transpose_axes(self.shape, axis0, axis1))

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Remove size-1 axes (all of them when `axis` is None); IndexError out of range.

        Parameters
        ----------
        axis : int or tuple of int, optional
            The axes to drop if their size is 1; all size-1 axes when None.
        dim : int or tuple of int, optional
            PyTorch's name for `axis` (keyword only; give one of the two).
        """
        return self.reshape(indexing.squeeze_shape(self.shape, pick_axis(axis, dim)))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert a size-1 axis at position `axis` (`dim` is PyTorch's name for it).

        Parameters
        ----------
        axis : int
            Where the new axis goes, in [-ndim-1, ndim].
        dim : int, optional
            PyTorch's name for `axis` (keyword only; give one of the two).
        """
        return self.reshape(indexing.unsqueeze_shape(self.shape, pick_axis(axis, dim)))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to `shape` without copying (PyTorch name; -1 keeps a size)."""
        return apply("expand", self, shape=indexing.expand_shape(self.shape, as_tuple(shape)))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Broadcast to `shape` (numpy name).

        Parameters
        ----------
        shape : sequence of int
            The target shape, compatible by numpy's broadcasting rules.
        """
        return apply("expand", self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        np_index, permutation = indexing.numpy_index(index, self.ndim)
        out = apply("getitem", self, index=np_index)
        return out if permutation is None else out.permute(permutation)

    def pad(self, pad_width: Any, value: float = 0.0, mode: str = "constant") -> Tensor:
        """numpy's `pad`: `pad_width` per dim (first dim first), `mode` "constant"
        (with `value`), "reflect", "edge" or "wrap"; PyTorch's order, names and cropping
        are `tinygrad_nd.nn.functional.pad`.

        Parameters
        ----------
        pad_width : int, (before, after) or one pair per dim
            The widths added, first dim first, each >= 0 (broadcast as numpy's `pad`).
        value : float, default 0.0
            The fill of "constant" mode.
        mode : {"constant", "reflect", "edge", "wrap"}, default "constant"
            numpy's padding modes.
        """
        return apply("pad", self, pad_width=_pad_width(pad_width, self.ndim), value=value,
                     mode=mode)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        """Split into chunks of a size (int) or of the given sizes (list), along `axis`.

        Parameters
        ----------
        split_size_or_sections : int or sequence of int
            The size of every chunk (the last may be smaller), or the list of sizes.
        axis : int, default 0
            The axis split.
        """
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
        """Entries picked along `dim` by `index` (see `tinygrad_nd.gather`).

        Parameters
        ----------
        dim : int
            The axis the indices run along.
        index : Tensor or array-like of int
            The positions along `dim`, as many dims as `self`.
        """
        return F.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with `src` (or `value`) written at `index` along `dim`.

        Parameters
        ----------
        dim : int
            The axis the indices run along.
        index : Tensor or array-like of int
            The positions along `dim`, as many dims as `self`.
        src : Tensor or number, optional
            The values written; give this or `value`.
        value : number, optional
            A scalar written instead (keyword only).
        """
        return F.scatter(self, dim, index, src, value=value)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """A copy with `src` added at `index` along `dim`.

        Parameters
        ----------
        dim : int
            The axis the indices run along.
        index : Tensor or array-like of int
            The positions along `dim`, as many dims as `self`.
        src : Tensor
            The values added.
        """
        return F.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim: int, index: Any, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """A copy with `src` reduced ("sum", "mean", "amax", "amin") at `index`.

        Parameters
        ----------
        dim : int
            The axis the indices run along.
        index : Tensor or array-like of int
            The positions along `dim`, as many dims as `self`.
        src : Tensor
            The values reduced in.
        reduce : {"sum", "mean", "amax", "amin"}
            How values meeting at one place combine.
        include_self : bool, default True
            Include the old value of each written place (keyword only).
        """
        return F.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The entries at positions `index` along `dim`.

        Parameters
        ----------
        dim : int
            The axis the indices run along.
        index : Tensor or array-like of int
            1-D or 0-d positions along `dim`.
        """
        return F.index_select(self, dim, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """`value` where the bool `mask` holds.

        Parameters
        ----------
        mask : Tensor or array-like of bool
            Where to write; broadcasts to `self`'s shape.
        value : number or 0-d Tensor
            The value written.
        """
        return F.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Tensor:
        """The 1-D tensor of the entries where `mask` holds.

        Parameters
        ----------
        mask : Tensor or array-like of bool
            Which entries to keep; broadcast with `self`.
        """
        return F.masked_select(self, mask)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """`gather` with broadcasting (flattened when `dim` is None).

        Parameters
        ----------
        indices : Tensor or array-like of int
            Positions along `dim`, broadcast with `self` in the other dims.
        dim : int, optional
            The axis; both flattened when None.
        """
        return F.take_along_dim(self, indices, dim)

    def nonzero(self, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
        """Positions of the non-zero entries (no gradient).

        Parameters
        ----------
        as_tuple : bool, default False
            One 1-D index tensor per dim instead of an (n, ndim) tensor (keyword only).
        """
        return F.nonzero(self, as_tuple=as_tuple)

    # ---- p14-select: shape functions (tinygrad_nd/reshaping.py) ------------------------
    def flip(self, *dims: int | Sequence[int]) -> Tensor:
        """Reverse the order of entries along `dims`."""
        return F.flip(self, as_tuple(dims))

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
             ) -> Tensor:
        """Shift entries along `dims`, wrapping around.

        Parameters
        ----------
        shifts : int or sequence of int
            How far to shift, one per entry of `dims`.
        dims : int or sequence of int, optional
            The axes; the flattened tensor when None.
        """
        return F.roll(self, shifts, dims)

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """Tile `sizes[i]` times along dim `i`."""
        return F.repeat(self, *sizes)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        """Repeat each entry `repeats` times along `dim` (flattened when None).

        Parameters
        ----------
        repeats : int or Tensor or array-like of int
            One count for all entries, or one per entry along `dim`.
        dim : int, optional
            The axis; the flattened tensor when None.
        output_size : int, optional
            The total length along `dim`, checked when given (keyword only).
        """
        return F.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *dims: int | Sequence[int]) -> Tensor:
        """`repeat`, with missing leading dims taken as 1."""
        return F.tile(self, as_tuple(dims))

    def chunk(self, chunks: int, dim: int = 0) -> list[Tensor]:
        """At most `chunks` equal pieces along `dim`.

        Parameters
        ----------
        chunks : int
            How many pieces at most, > 0.
        dim : int, default 0
            The axis split.
        """
        return F.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, that dim removed.

        Parameters
        ----------
        dim : int, default 0
            The axis taken apart.
        """
        return F.unbind(self, dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Split dim `dim` into `sizes`.

        Parameters
        ----------
        dim : int
            The axis split.
        sizes : sequence of int
            The new sizes (one may be -1); their product is that axis's size.
        """
        return F.unflatten(self, dim, sizes)

    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """Move dims `source` to `destination`.

        Parameters
        ----------
        source : int or sequence of int
            The axes moved.
        destination : int or sequence of int
            Where they go.
        """
        return F.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Swap two dims (`swapdims`, `transpose(dim0, dim1)`).

        Parameters
        ----------
        axis0, axis1 : int
            The two axes swapped.
        """
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        """Entries `start .. start + length` along `dim`.

        Parameters
        ----------
        dim : int
            The axis.
        start : int or 0-d Tensor
            The first entry kept (negative counts from the end).
        length : int
            How many entries.
        """
        return F.narrow(self, dim, start, length)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims.

        Parameters
        ----------
        diagonal : int, default 0
            Keep entries with `col - row <= diagonal` in the last two dims; others become 0.
        """
        return F.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims.

        Parameters
        ----------
        diagonal : int, default 0
            Keep entries with `col - row >= diagonal` in the last two dims; others become 0.
        """
        return F.triu(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """Diagonal `offset` of the (dim1, dim2) matrices, as the last dim.

        Parameters
        ----------
        offset : int, default 0
            Which diagonal: 0 the main one, > 0 above, < 0 below.
        dim1, dim2 : int, default 0 and 1
            The axes that form the matrices.
        """
        return F.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Matrices whose diagonal `offset` holds the last dim.

        Parameters
        ----------
        offset : int, default 0
            Which diagonal: 0 the main one, > 0 above, < 0 below.
        dim1, dim2 : int, default -2 and -1
            The result's axes that form the matrices.
        """
        return F.diag_embed(self, offset, dim1, dim2)


def _pad_width(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    arr = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (arr < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width}")
    return tuple((int(a), int(b)) for a, b in arr)
