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
    """Binary cross-entropy on probabilities, optionally rescaled per element by ``weight``
    (see :func:`~tinygrad_nd.nn.functional.binary_cross_entropy`)."""

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, reduction: str = "mean", *, weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, reduction=self.reduction, weight=self.weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, exact for every logit, with PyTorch's ``weight`` and
    ``pos_weight`` (see :func:`~tinygrad_nd.nn.functional.binary_cross_entropy_with_logits`).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> loss = BCEWithLogitsLoss(pos_weight=[3.0])
    >>> round(loss(tg.zeros(2, 1), [[1.0], [0.0]]).item(), 4)   # (3 log 2 + log 2) / 2
    1.3863
    """

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, reduction: str = "mean", *, weight: Any = None,
                 pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction,
                                                  weight=self.weight, pos_weight=self.pos_weight)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices."""

    function = staticmethod(F.nll_loss)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or probabilities."""

    function = staticmethod(F.cross_entropy)
