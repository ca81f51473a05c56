"""Activation modules: thin wrappers over the registered activation ops."""

from __future__ import annotations

from ..tensor import Tensor
from .module import Module


class Activation(Module):
    """Base class of elementwise activations (``y_i = f(x_i)``).

    The diagnostics find activation layers by this class and take their slope ``f'(z)``
    from the autograd, so a user's own activation gets the same treatment by subclassing it.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> class Square(Activation):
    ...     def forward(self, x):
    ...         return x * x
    >>> Square()(tg.Tensor([3.0])).tolist()
    [9.0]
    """


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Sigmoid(Activation):
    """1 / (1 + e**-x); its derivative is at most 1/4, the root of vanishing gradients."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(Activation):
    """Hyperbolic tangent; derivative at most 1 (at 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class ReLU(Activation):
    """max(x, 0): derivative 1 for active units, 0 for dead ones."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class GELU(Activation):
    """Gaussian error linear unit (tanh approximation)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu()


class LeakyReLU(Activation):
    """x for x > 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    """x for x > 0, ``alpha * (e**x - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return x.elu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Activation):
    """log(1 + e**(beta x)) / beta."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: Tensor) -> Tensor:
        return x.softplus(self.beta)


class Softmax(Module):
    """Softmax along ``dim`` (stable)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along ``dim`` (stable)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.log_softmax(self.dim)
