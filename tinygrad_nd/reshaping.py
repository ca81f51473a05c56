"""PyTorch's shape functions as exact composites of registered ops.

Each is a few `getitem` / `reshape` / `expand` / `permute` / `cat` / `pad` calls, so its
gradient (and gradient of gradient) is theirs; the work here is checking arguments as
PyTorch does and computing the index or shape to use. They are exported as
`tinygrad_nd.<name>` and reached as Tensor methods. The functions defined by the diagonals
of matrices (`tril`, `triu`, `diagonal`, `diag_embed`) are in `diagonals`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .diagonals import (  # noqa: F401  (re-exported: importable from here as before the split)
    _diagonal_positions,
    _triangle,
    _two_dims,
    diag_embed,
    diagonal,
    tril,
    triu,
)
from .indexing import wrap_dim
from .registry import apply
from .tensor import Tensor

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _dims(dims: Any, shape: tuple[int, ...], op: str, arg: str = "dims") -> tuple[int, ...]:
    """One dim or a sequence of distinct dims, made positive (PyTorch's errors)."""
    items = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    out = tuple(wrap_dim(d, shape, op, arg) for d in items)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim appears multiple times in {arg}={tuple(items)}")
    return out


def _new(out: Tensor, input: Tensor) -> Tensor:
    """`out`, or a view of `input` when nothing changed it: like PyTorch, every call
    returns a new tensor (an in-place change of the result must not hit the argument's
    `requires_grad` checks or hooks)."""
    return input[...] if out is input else out


def _along(dim: int, item: Any) -> tuple[Any, ...]:
    """An index applying `item` to dimension `dim` only."""
    return (slice(None),) * dim + (item,)


def flip(input: Tensor, dims: int | Sequence[int]) -> Tensor:
    """Reverse the order of the entries along each of `dims`.

    Parameters
    ----------
    input : Tensor
        The tensor.
    dims : int or sequence of int
        The axes to reverse (negative count from the end).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.flip(tg.arange(3.0), 0).tolist()
    [2.0, 1.0, 0.0]
    """
    axes = _dims(dims, input.shape, "flip")
    if input.ndim == 0 or not axes:
        return input[...]
    return input[tuple(slice(None, None, -1) if d in axes else slice(None)
                       for d in range(input.ndim))]


def roll(input: Tensor, shifts: int | Sequence[int],
         dims: int | Sequence[int] | None = None) -> Tensor:
    """Shift entries along `dims` by `shifts`, wrapping around (flattened when `dims`
    is None).

    Parameters
    ----------
    input : Tensor
        The tensor.
    shifts : int or sequence of int
        How far to shift (positive: towards higher indices), one per entry of `dims`.
    dims : int or sequence of int, optional
        The axes; with None the flattened tensor is rolled and reshaped back.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.roll(tg.arange(4.0), 1).tolist()
    [3.0, 0.0, 1.0, 2.0]
    """
    if dims is None:
        if not isinstance(shifts, (int, np.integer)) and len(shifts) != 1:
            raise RuntimeError(f"roll: with dims=None, shifts must be one int, got {shifts}")
        shift = shifts if isinstance(shifts, (int, np.integer)) else shifts[0]
        return roll(input.reshape(-1), shift, 0).reshape(input.shape)
    shift_list = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dim_list = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shift_list) != len(dim_list):
        raise RuntimeError(f"roll: shifts {shift_list} and dims {dim_list} must have the same "
                           "length")
    out = input
    for shift, dim in zip(shift_list, dim_list):
        d = wrap_dim(dim, input.shape, "roll")
        size = input.shape[d] if input.ndim else 1
        s = int(shift) % size if size else 0
        if s and input.ndim:
            out = apply("cat", out[_along(d, slice(size - s, None))],
                        out[_along(d, slice(0, size - s))], axis=d)
    return _new(out, input)


def repeat(input: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """Tile the tensor `sizes[i]` times along dim `i` (`sizes` may add leading dims).

    Parameters
    ----------
    input : Tensor
        The tensor; the repeat counts follow as further arguments (or one sequence), at least
        one per dim, each >= 0.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.arange(2.0).repeat(2, 2).tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]]
    """
    reps = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError(f"repeat: the number of repeat dims ({len(reps)}) can not be smaller "
                           f"than the number of tensor dims ({input.ndim}, shape {input.shape})")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {reps}")
    shape = (1,) * (len(reps) - input.ndim) + input.shape
    # one expand over interleaved (repeat, size) pairs, then merge each pair
    pairs = [v for s in shape for v in (1, s)]
    target = [v for r, s in zip(reps, shape) for v in (r, s)]
    return input.reshape(pairs).expand(target).reshape([r * s for r, s in zip(reps, shape)])


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """`repeat` with `dims` padded with leading ones to the tensor's number of dims.

    Parameters
    ----------
    input : Tensor
        The tensor.
    dims : int or sequence of int
        Repeat counts, aligned with the tensor's last dims (missing leading ones are 1).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.tile(tg.ones(2, 2), (2,)).shape
    (2, 4)
    """
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each entry `repeats` times (an int, or one count per entry) along `dim`;
    the flattened tensor when `dim` is None. With only an integer tensor of counts,
    `repeat_interleave(counts)` returns the repeated positions, as PyTorch.

    Parameters
    ----------
    input : Tensor
        The tensor.
    repeats : int or Tensor or array-like of int, optional
        How often each entry is repeated: one count for all, or one per entry along `dim`.
    dim : int, optional
        The axis; the flattened tensor when None.
    output_size : int, optional
        The total length along `dim`, if known (keyword only; checked against the counts).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.repeat_interleave(tg.Tensor([1.0, 2.0]), 2).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    if repeats is None:
        counts = _counts(input, None, "repeat_interleave")
        return Tensor._make(np.repeat(np.arange(counts.size), counts), None)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, x.shape, "repeat_interleave")
    if x.ndim == 0:
        x = x.reshape(1)
    counts = _counts(repeats, x.shape[d], "repeat_interleave")
    total = int(counts) * x.shape[d] if counts.ndim == 0 else int(counts.sum())
    if output_size is not None and total != output_size:
        raise RuntimeError(f"repeat_interleave: output_size={output_size} but the repeats add "
                           f"up to {total}")
    if counts.ndim == 0:  # an int: expand a new axis after dim and merge it
        k = int(counts)
        shape = x.shape[:d + 1] + (k,) + x.shape[d + 1:]
        merged = x.shape[:d] + (x.shape[d] * k,) + x.shape[d + 1:]
        return x.unsqueeze(d + 1).expand(shape).reshape(merged)
    return x[_along(d, np.repeat(np.arange(x.shape[d]), counts))]


def _counts(repeats: Any, size: int | None, op: str) -> np.ndarray:
    """Repeat counts: a non-negative int (0-d) or one per entry of a dimension of `size`."""
    arr = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: repeats must be an int or an integer tensor, got {arr.dtype}")
    if (arr < 0).any():
        raise RuntimeError(f"{op}: repeats can not be negative, got {arr.tolist()}")
    if arr.ndim > 1:
        raise RuntimeError(f"{op}: repeats must be 0-d or 1-d, got shape {arr.shape}")
    if arr.ndim == 1 and size is not None:
        if arr.size == 1:
            return arr.reshape(())
        if arr.size != size:
            raise RuntimeError(f"{op}: repeats must have the same size as input along dim "
                               f"({size}), got {arr.size}")
    return arr


def chunk(input: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
    """Split into at most `chunks` pieces of equal size (the last may be smaller).

    Parameters
    ----------
    input : Tensor
        The tensor.
    chunks : int
        How many pieces at most, > 0; each has ceil(size / chunks) entries but the last.
    dim : int, default 0
        The axis split.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> [c.tolist() for c in tg.chunk(tg.arange(5.0), 3)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if input.ndim == 0:
        raise RuntimeError("chunk: expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, input.shape, "chunk")
    size = input.shape[d]
    step = max(-(-size // int(chunks)), 1)
    starts = range(0, size, step) if size else [0] * int(chunks)  # PyTorch: chunks empties
    return [input[_along(d, slice(a, min(a + step, size)))] for a in starts]


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, with that dim removed.

    Parameters
    ----------
    input : Tensor
        The tensor.
    dim : int, default 0
        The axis taken apart.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> [t.tolist() for t in tg.unbind(tg.eye(2), 1)]
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if input.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input.shape, "unbind")
    return tuple(input[_along(d, i)] for i in range(input.shape[d]))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension `dim` into `sizes` (one of them may be -1).

    Parameters
    ----------
    input : Tensor
        The tensor.
    dim : int
        The axis split.
    sizes : sequence of int
        The new sizes replacing it; their product must be its size (one may be -1).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.unflatten(tg.ones(2, 6), 1, (3, -1)).shape
    (2, 3, 2)
    """
    d = wrap_dim(dim, input.shape, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[d] if input.ndim else 1
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != size) or \
            (-1 in sizes and (known == 0 or size % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim {d} "
                           f"({size}) of a tensor of shape {input.shape}")
    sizes = tuple(size // known if s == -1 else s for s in sizes)
    return input.reshape(input.shape[:d] + sizes + input.shape[d + 1:])


def movedim(input: Tensor, source: int | Sequence[int],
            destination: int | Sequence[int]) -> Tensor:
    """Move dims `source` to positions `destination`; the others keep their order.

    Parameters
    ----------
    input : Tensor
        The tensor.
    source : int or sequence of int
        The axes moved.
    destination : int or sequence of int
        Where they go, one per entry of `source`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.movedim(tg.ones(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    src = _dims(source, input.shape, "movedim", "source")
    dst = _dims(destination, input.shape, "movedim", "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must have "
                           "the same number of dims")
    order: list[int | None] = [None] * input.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    axes = tuple(next(rest) if o is None else o for o in order)
    return input[...] if axes == tuple(range(input.ndim)) else input.permute(axes)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two dims (`transpose(dim0, dim1)`; `swapdims` is the same function).

    Parameters
    ----------
    input : Tensor
        The tensor.
    axis0, axis1 : int
        The two axes swapped.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.swapaxes(tg.ones(2, 3), 0, 1).shape
    (3, 2)
    """
    return input.transpose(axis0, axis1)


swapdims = swapaxes


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The entries `start .. start + length` along `dim` (`start` may be negative).

    Parameters
    ----------
    input : Tensor
        The tensor.
    dim : int
        The axis.
    start : int or 0-d Tensor
        The first entry kept (negative counts from the end).
    length : int
        How many entries, >= 0; `start + length` must not pass the end.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.narrow(tg.arange(5.0), 0, -3, 2).tolist()
    [2.0, 3.0]
    """
    if input.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    d = wrap_dim(dim, input.shape, "narrow")
    size = input.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} of size "
                         f"{size}")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension {d} "
                           f"of size {size}")
    return input[_along(d, slice(start, start + length))]


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """PyTorch's `F.pad`: `pad` lists (before, after) widths from the last dim backwards;
    negative widths crop. `mode` is "constant" (with `value`, default 0), "reflect"
    (mirror without repeating the edge), "replicate" (repeat the edge) or "circular" (wrap).

    Parameters
    ----------
    input : Tensor
        The tensor.
    pad : sequence of int
        (before, after) widths for the last dim, then the one before it...; even length, at
        most 2 ndim.
    mode : {"constant", "reflect", "replicate", "circular"}, default "constant"
        How the new entries are filled.
    value : float, optional
        The fill of "constant" mode (0 by default); not allowed with the other modes.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.nn.functional.pad(tg.arange(3.0), (2, 1), mode="reflect").tolist()
    [2.0, 1.0, 0.0, 1.0, 2.0, 1.0]
    >>> tg.nn.functional.pad(tg.arange(3.0), (-1, 1)).tolist()
    [1.0, 2.0, 0.0]
    """
    widths = [int(w) for w in pad]
    if len(widths) % 2 or len(widths) > 2 * input.ndim:
        raise ValueError(f"pad: pad must have an even length of at most 2 * ndim "
                         f"({2 * input.ndim}) for a tensor of shape {input.shape}, got {pad}")
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if value is not None and mode != "constant":
        raise ValueError(f"pad: value is only used with mode='constant', got mode={mode!r}")
    pairs = {input.ndim - 1 - i // 2: (widths[i], widths[i + 1])
             for i in range(0, len(widths), 2)}
    # Negative widths crop. PyTorch crops first in "circular" mode, and pads the whole
    # tensor first otherwise (so a reflection may reach entries that are then cropped).
    cut = {d: (max(-lo, 0), max(-hi, 0)) for d, (lo, hi) in pairs.items()}
    if any(a + b > input.shape[d] for d, (a, b) in cut.items()):
        raise RuntimeError(f"pad: widths {tuple(pad)} crop more than the tensor of shape "
                           f"{input.shape} holds")
    grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in
                 (pairs.get(d, (0, 0)) for d in range(input.ndim)))
    out = _crop(input, cut) if mode == "circular" else input
    if any(lo or hi for lo, hi in grow):
        numpy_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                      "circular": "wrap"}[mode]
        try:
            out = apply("pad", out, pad_width=grow, value=0.0 if value is None else value,
                        mode=numpy_mode)
        except ValueError as e:  # PyTorch's exception type and mode name
            raise RuntimeError(str(e).replace(repr(numpy_mode), repr(mode))) from None
    return _new(out if mode == "circular" else _crop(out, cut), input)


def _crop(x: Tensor, cut: dict[int, tuple[int, int]]) -> Tensor:
    """`x` without `cut[d] = (before, after)` entries at the ends of each dim `d`."""
    if not any(a or b for a, b in cut.values()):
        return x
    return x[tuple(slice(cut[d][0], s - cut[d][1]) if d in cut else slice(None)
                   for d, s in enumerate(x.shape))]
