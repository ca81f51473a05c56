"""Tensor methods of the linear algebra (`tinygrad_nd/ops/linalg.py`, `einsum.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..registry import apply

if TYPE_CHECKING:
    from ..tensor import Tensor


class LinalgMethods:
    """Mixed into `tinygrad_nd.Tensor`."""

    __slots__ = ()

    def outer(self, other: Any) -> Tensor:
        """Outer product with another vector (`torch.outer`).

        Parameters
        ----------
        other : Tensor or array-like
            A 1-D vector (as `self`); the result is (len(self), len(other)).
        """
        from ..einsum import outer

        return outer(self, other)

    def bmm(self, other: Any) -> Tensor:
        """Batched matrix product of (B, n, k) and (B, k, m) tensors.

        Parameters
        ----------
        other : Tensor or array-like, shape (B, k, m)
            The right operand (`self` is (B, n, k)).
        """
        from ..einsum import bmm

        return bmm(self, other)

    def baddbmm(self, batch1: Any, batch2: Any, *, beta: float = 1.0,
                alpha: float = 1.0) -> Tensor:
        """`beta * self + alpha * bmm(batch1, batch2)`.

        Parameters
        ----------
        batch1 : Tensor or array-like, shape (B, n, k)
            The left factors.
        batch2 : Tensor or array-like, shape (B, k, m)
            The right factors.
        beta : float, default 1.0
            Multiplies `self` (keyword only).
        alpha : float, default 1.0
            Multiplies the product (keyword only).
        """
        from ..einsum import baddbmm

        return baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def inverse(self) -> Tensor:
        """Matrix inverse (of each matrix in a batch): `tinygrad_nd.linalg.inv`."""
        return apply("inv", self)

    def det(self) -> Tensor:
        """Determinant (of each matrix in a batch): `tinygrad_nd.linalg.det`."""
        return apply("det", self)
