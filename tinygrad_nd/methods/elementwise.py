"""Tensor methods of the elementwise math and activation ops (``tinygrad_nd/ops/elementwise.py``,
``ops/activation.py``): one explicit, typed line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import apply

if TYPE_CHECKING:
    from ..tensor import Tensor


class ElementwiseMethods:
    """Mixed into :class:`~tinygrad_nd.Tensor`."""

    __slots__ = ()

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return apply("exp", self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return apply("log", self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return apply("sqrt", self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient 0 at 0)."""
        return apply("abs", self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp values into ``[min, max]``; the gradient is 1 inside, 0 outside."""
        return apply("clip", self, min=min, max=max)

    clamp = clip

    def sigmoid(self) -> Tensor:
        """Logistic function 1 / (1 + e**-x), computed without overflow."""
        return apply("sigmoid", self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return apply("tanh", self)

    def relu(self) -> Tensor:
        """max(x, 0) (gradient 0 at 0)."""
        return apply("relu", self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, ``negative_slope * x`` otherwise."""
        return apply("leaky_relu", self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        """x for x > 0, ``alpha * (e**x - 1)`` otherwise."""
        return apply("elu", self, alpha=alpha)

    def softplus(self, beta: float = 1.0) -> Tensor:
        """log(1 + e**(beta x)) / beta, computed without overflow."""
        return apply("softplus", self, beta=beta)

    def gelu(self) -> Tensor:
        """Gaussian error linear unit (tanh approximation)."""
        return apply("gelu", self)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, shifted by the max for stability."""
        return apply("softmax", self, axis=axis if dim is None else dim)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """x - logsumexp(x) along ``axis``, stable for |x| up to float max."""
        return apply("log_softmax", self, axis=axis if dim is None else dim)
