"""Loss modules: the functional losses with their options stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    function: Callable[..., Tensor]

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {F.REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return type(self).function(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error (see :func:`~tinygrad_nd.nn.functional.mse_loss`)."""

    function = staticmethod(F.mse_loss)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities."""

    function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable)."""

    function = staticmethod(F.binary_cross_entropy_with_logits)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices."""

    function = staticmethod(F.nll_loss)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or probabilities."""

    function = staticmethod(F.cross_entropy)
