"""`tg.linalg`: PyTorch's `torch.linalg` names for the linear-algebra ops.

Every function takes a matrix or a batch of them (`(..., n, n)`) and is differentiable
(twice, where the function is smooth). A singular matrix, or one that is not positive
definite for `cholesky`, raises `numpy.linalg.LinAlgError` (a `ValueError`) naming the
function.

Examples
--------
>>> import tinygrad_nd as tg
>>> a = tg.Tensor([[2.0, 0.0], [0.0, 4.0]])
>>> tg.linalg.inv(a).tolist(), tg.linalg.det(a).item()
([[0.5, 0.0], [0.0, 0.25]], 8.0)
"""

from __future__ import annotations

from typing import Any

from .ops.reduce import vector_norm
from .registry import apply
from .tensor import Tensor

__all__ = ["cholesky", "det", "inv", "norm", "solve", "vector_norm"]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def inv(A: Any) -> Tensor:
    """The inverse of a square matrix (or of each in a batch); gradient `-A^-T g A^-T`.

    Parameters
    ----------
    A : Tensor or array
        A square matrix (..., n, n), or a batch of them.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.linalg.inv(tg.Tensor([[0.0, 1.0], [1.0, 0.0]])).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    return apply("inv", _tensor(A))


def det(A: Any) -> Tensor:
    """The determinant of a square matrix (or of each in a batch). The gradient is the
    cofactor matrix, also for singular matrices (where `det A * A^-T` is undefined).

    Parameters
    ----------
    A : Tensor or array
        A square matrix (..., n, n), or a batch of them.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> A = tg.Tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)  # singular
    >>> tg.linalg.det(A).backward(); A.grad.tolist()
    [[4.0, -2.0], [-2.0, 1.0]]
    """
    return apply("det", _tensor(A))


def solve(A: Any, B: Any) -> Tensor:
    """The solution X of `A X = B`. `B` is a batch of vectors when it is 1-D or has one dim
    less than `A` and `A`'s leading shape (PyTorch's rule), else (..., n, k) matrices.
    Batch dims broadcast.

    Parameters
    ----------
    A : Tensor or array
        A square matrix (..., n, n), or a batch of them.
    B : Tensor or array
        The right-hand side(s): vectors (..., n) or matrices (..., n, k).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.linalg.solve(tg.Tensor([[2.0, 0.0], [0.0, 4.0]]), tg.Tensor([2.0, 2.0])).tolist()
    [1.0, 0.5]
    """
    A, B = _tensor(A), _tensor(B)
    if B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]):
        return apply("solve", A, B.unsqueeze(-1)).squeeze(-1)
    return apply("solve", A, B)


def cholesky(A: Any, *, upper: bool = False) -> Tensor:
    """The lower Cholesky factor L of a symmetric positive definite `A = L L^T` (`upper`:
    its transpose). Only the symmetric part `(A + A^T)/2` is read, so the gradient is the
    symmetric one PyTorch returns.

    Parameters
    ----------
    A : Tensor or array
        A symmetric positive definite matrix (..., n, n), or a batch of them.
    upper : bool
        Return the upper factor U = L^T (`A = U^T U`) instead.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.linalg.cholesky(tg.Tensor([[4.0, 2.0], [2.0, 5.0]])).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    low = apply("cholesky", _tensor(A))
    return low.mT if upper else low


def norm(x: Any, ord: float | str | None = None, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Vector norms of `torch.linalg.norm`: `ord=None` (or `"fro"`) is the 2-norm of the
    elements; a number is `vector_norm`'s `ord` over `dim` (a 1-D input or an int
    `dim`). Matrix norms (`"nuc"`, `ord` over two dims) are not implemented.

    Parameters
    ----------
    x : Tensor or array
        The input.
    ord : float, str or None
        None or `"fro"` for the 2-norm of all elements, else a vector norm's order.
    dim : int or tuple of int, optional
        The dims to reduce (default: all).
    keepdim : bool
        Keep the reduced dims with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.linalg.norm(tg.Tensor([[1.0, 2.0], [2.0, 4.0]])).item()
    5.0
    """
    x = _tensor(x)
    if ord is None or ord == "fro":
        return vector_norm(x, 2, dim, keepdim)
    matrix = isinstance(ord, str) or (dim is None and x.ndim == 2) or \
        (isinstance(dim, (tuple, list)) and len(dim) == 2)
    if matrix:
        raise NotImplementedError(f"linalg.norm: matrix norms (ord={ord!r} over two dims) are "
                                  "not implemented; use linalg.vector_norm for vector norms")
    return vector_norm(x, ord, dim, keepdim)
