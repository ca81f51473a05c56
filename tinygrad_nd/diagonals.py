"""PyTorch's functions defined by the diagonals of matrices (the last two dims, or `dim1`,
`dim2`): the triangles on either side of one (`tril`, `triu`), one diagonal taken out
(`diagonal`) or put into zero matrices (`diag_embed`).

Exact composites of registered ops (`where`, `getitem`, `index_add`, `permute`), so their
gradients are those ops'. Exported as `tinygrad_nd.<name>`, reached as Tensor methods and,
as before the split, importable from `tinygrad_nd.reshaping`.
"""

from __future__ import annotations

import numpy as np

from .indexing import wrap_dim
from .registry import apply
from .tensor import Tensor


def _triangle(input: Tensor, diagonal: int, op: str, lower: bool) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                           f"{input.shape}")
    rows, cols = input.shape[-2:]
    keep = np.tri(rows, cols, int(diagonal), dtype=bool)
    if not lower:
        keep = ~np.tri(rows, cols, int(diagonal) - 1, dtype=bool)
    zero = Tensor._make(np.zeros((), dtype=input.dtype), None)
    # where, not a product with the mask: an inf outside the triangle still gives 0
    return apply("where", Tensor._make(keep, None), input, zero)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (entries with `col - row <= diagonal`).

    Parameters
    ----------
    input : Tensor
        At least 2 dims; the last two are the matrices.
    diagonal : int, default 0
        Keep entries with `col - row <= diagonal`; others become 0.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.tril(tg.ones(2, 2)).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle(input, diagonal, "tril", lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (entries with `col - row >= diagonal`).

    Parameters
    ----------
    input : Tensor
        At least 2 dims; the last two are the matrices.
    diagonal : int, default 0
        Keep entries with `col - row >= diagonal`; others become 0.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.triu(tg.ones(2, 2)).tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle(input, diagonal, "triu", lower=False)


def _diagonal_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column positions of diagonal `offset` of a (rows, cols) matrix."""
    n = max(min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols), 0)
    i = np.arange(n)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def _two_dims(shape: tuple[int, ...], dim1: int, dim2: int, op: str) -> tuple[int, int]:
    a, b = wrap_dim(dim1, shape, op, "dim1"), wrap_dim(dim2, shape, op, "dim2")
    if a == b:
        raise RuntimeError(f"{op}: dim1 and dim2 cannot be the same dimension, got {dim1} and "
                           f"{dim2} for shape {shape}")
    return a, b


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal `offset` of the (dim1, dim2) matrices, as the last dim.

    Parameters
    ----------
    input : Tensor
        At least 2 dims.
    offset : int, default 0
        Which diagonal: 0 the main one, > 0 above it, < 0 below.
    dim1, dim2 : int, default 0 and 1
        The two axes that form the matrices (different).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.diagonal(tg.arange(6.0).reshape(2, 3), 1).tolist()
    [1.0, 5.0]
    """
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expects a tensor of at least 2 dims, got shape "
                           f"{input.shape}")
    a, b = _two_dims(input.shape, dim1, dim2, "diagonal")
    moved = input.movedim((a, b), (-2, -1))
    rows, cols = _diagonal_positions(*moved.shape[-2:], int(offset))
    return moved[..., rows, cols]


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims `dim1`, `dim2` of the result) whose diagonal `offset` holds the
    last dim of `input`, zeros elsewhere.

    Parameters
    ----------
    input : Tensor
        Its last dim holds the diagonals.
    offset : int, default 0
        Which diagonal: 0 the main one, > 0 above it, < 0 below.
    dim1, dim2 : int, default -2 and -1
        The result's axes that form the matrices (different).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.diag_embed(tg.Tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    if input.ndim == 0:
        input = input.reshape(1)
    out_ndim = input.ndim + 1
    a, b = _two_dims((0,) * out_ndim, dim1, dim2, "diag_embed")
    n, k = input.shape[-1], abs(int(offset))
    rows, cols = _diagonal_positions(n + k, n + k, int(offset))
    square = apply("index_add", input, index=(Ellipsis, rows, cols),
                   shape=input.shape[:-1] + (n + k, n + k))
    return square.movedim((-2, -1), (a, b))
