"""Tensor methods of the reductions (``tinygrad_nd/ops/reduce.py``, ``statistics.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..registry import apply
from ._args import Axis, pick_axis

if TYPE_CHECKING:
    from ..tensor import Tensor


class ReductionMethods:
    """Mixed into :class:`~tinygrad_nd.Tensor`."""

    __slots__ = ()

    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Sum over ``axis`` (all axes when None)."""
        return apply("sum", self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Mean over ``axis`` (all axes when None)."""
        return apply("mean", self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        return apply("max", self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Minimum over ``axis``; tied minima share the gradient equally."""
        return apply("min", self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float | None = None, *,
            dim: Axis = None, correction: float | None = None) -> Tensor:
        """Variance over ``axis``: divisor ``n - ddof``, numpy's ``ddof`` or PyTorch's
        ``correction`` (0 by default, unlike PyTorch's 1). With ``n - ddof <= 0``: ``inf``, or
        ``nan`` for 0/0, as PyTorch (see :mod:`tinygrad_nd.statistics`).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> round(tg.Tensor([1.0, 2.0, 4.0]).var(correction=1).item(), 4)
        2.3333
        """
        from ..statistics import variance

        return variance(self, pick_axis(axis, dim), keepdims, ddof, correction)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float | None = None, *,
            dim: Axis = None, correction: float | None = None) -> Tensor:
        """Standard deviation: ``sqrt(var)``, with the same arguments (gradient 0 where it is 0,
        as in PyTorch)."""
        from ..statistics import standard_deviation

        return standard_deviation(self, pick_axis(axis, dim), keepdims, ddof, correction)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Index of the maximum (int64, no gradient)."""
        from ..tensor import Tensor  # (tensor.py imports this module)

        return Tensor._make(np.asarray(self.data.argmax(axis=axis)), None)

    def argmin(self, axis: int | None = None) -> Tensor:
        """Index of the minimum (int64, no gradient)."""
        from ..tensor import Tensor  # (tensor.py imports this module)

        return Tensor._make(np.asarray(self.data.argmin(axis=axis)), None)

    def any(self) -> bool:
        """Whether any element is true."""
        return bool(self.data.any())

    def all(self) -> bool:
        """Whether all elements are true."""
        return bool(self.data.all())
