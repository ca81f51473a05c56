"""Activation modules: thin wrappers over the registered activation ops.

Each checks its arguments when it is built (a wrong type or value raises there, naming the
module and the argument), not on the first forward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import _real_in
from ..tensor import Tensor
from . import activation_functional
from . import functional as F
from .module import Module


class Activation(Module):
    """Base class of elementwise activations (`y_i = f(x_i)`).

    The diagnostics find activation layers by this class and take their slope `f'(z)`
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


def _real(value: Any, name: str, op: str) -> float:
    """A finite real number (not a bool), else a TypeError/ValueError naming the argument."""
    return _real_in(value, name, op, -np.inf)


def _nonzero(value: Any, name: str, op: str) -> float:
    if _real(value, name, op) == 0:
        raise ValueError(f"{op}: {name} must not be 0, got {value!r}")
    return float(value)


def _dim(dim: Any, op: str) -> int:
    return activation_functional._dim(dim, op)


def _inplace(inplace: Any, op: str) -> bool:
    """PyTorch's `inplace` flag, accepted for compatibility: the result is always a new
    tensor here (the autograd's saved inputs are never overwritten)."""
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"{op}: inplace must be a bool, got {type(inplace).__name__} "
                        f"{inplace!r}")
    return bool(inplace)


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
    """Gaussian error linear unit x Phi(x): exact (erf) by default, or the tanh approximation
    with `approximate="tanh"`, as PyTorch.

    Parameters
    ----------
    approximate : {"none", "tanh"}
        The exact form or the tanh approximation.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = F.check_gelu_approximate(approximate, "GELU")

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu(self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(Activation):
    """x for x > 0, `negative_slope * x` otherwise.

    Parameters
    ----------
    negative_slope : float
        The slope for negative inputs.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = _real(negative_slope, "negative_slope", "LeakyReLU")
        self.inplace = _inplace(inplace, "LeakyReLU")

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    """x for x > 0, `alpha * (e**x - 1)` otherwise.

    Parameters
    ----------
    alpha : float
        The value approached for large negative inputs is `-alpha`.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = _real(alpha, "alpha", "ELU")
        self.inplace = _inplace(inplace, "ELU")

    def forward(self, x: Tensor) -> Tensor:
        return x.elu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Activation):
    """log(1 + e**(beta x)) / beta; `beta` must not be 0 (it divides the result).

    Parameters
    ----------
    beta : float
        The sharpness (larger: closer to ReLU).
    """

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = _nonzero(beta, "beta", "Softplus")

    def forward(self, x: Tensor) -> Tensor:
        return x.softplus(self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class Softmax(Module):
    """Softmax along `dim` (stable).

    Parameters
    ----------
    dim : int
        The dim that sums to 1.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = _dim(dim, type(self).__name__)

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along `dim` (stable).

    Parameters
    ----------
    dim : int
        The dim whose exponentials sum to 1.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.log_softmax(self.dim)


# ---- part "math" of issue #14 ---------------------------------------------------------------
class Softmin(Softmax):
    """Softmax of -x along `dim`.

    Parameters
    ----------
    dim : int
        The dim that sums to 1.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.softmin(self.dim)


class GLU(Module):
    """Gated linear unit: `a * sigmoid(b)` for the two halves a, b of the input along
    `dim` (whose size must be even).

    Parameters
    ----------
    dim : int
        The dim split in two halves.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = _dim(dim, "GLU")

    def forward(self, x: Tensor) -> Tensor:
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardtanh(Activation):
    """x clamped into [min_val, max_val] (which must satisfy min_val < max_val).

    Parameters
    ----------
    min_val, max_val : float
        The bounds.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.min_val = _real(min_val, "min_val", name)
        self.max_val = _real(max_val, "max_val", name)
        if not self.min_val < self.max_val:
            raise ValueError(f"{name}: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.inplace = _inplace(inplace, name)

    def forward(self, x: Tensor) -> Tensor:
        return x.hardtanh(self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6), as in PyTorch.

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return ""


class _Parameterless(Activation):
    """An activation with only PyTorch's `inplace` flag; subclasses name the Tensor method."""

    method = "relu"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace, type(self).__name__)

    def forward(self, x: Tensor) -> Tensor:
        return getattr(x, self.method)()  # type: ignore[no-any-return]


class Hardsigmoid(_Parameterless):
    """min(max(x + 3, 0), 6) / 6.

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    method = "hardsigmoid"


class Hardswish(_Parameterless):
    """x * min(max(x + 3, 0), 6) / 6.

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    method = "hardswish"


class SiLU(_Parameterless):
    """x * sigmoid(x) (swish).

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    method = "silu"


class Mish(_Parameterless):
    """x * tanh(softplus(x)).

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    method = "mish"


class SELU(_Parameterless):
    """Scaled ELU with the self-normalising constants (Klambauer et al., 2017).

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    method = "selu"


class Softsign(Activation):
    """x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.softsign()


class LogSigmoid(Activation):
    """log(sigmoid(x)) = -softplus(-x), finite for every finite x."""

    def forward(self, x: Tensor) -> Tensor:
        return x.logsigmoid()


class CELU(Activation):
    """x for x > 0, `alpha * (e**(x/alpha) - 1)` otherwise; `alpha` must not be 0.

    Parameters
    ----------
    alpha : float
        The value approached for large negative inputs is `-alpha`.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = _nonzero(alpha, "alpha", "CELU")
        self.inplace = _inplace(inplace, "CELU")

    def forward(self, x: Tensor) -> Tensor:
        return x.celu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Threshold(Activation):
    """x where x > threshold, else `value`.

    Parameters
    ----------
    threshold : float
        Inputs at or below it are replaced.
    value : float
        What replaces them.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = _real(threshold, "threshold", "Threshold")
        self.value = _real(value, "value", "Threshold")
        self.inplace = _inplace(inplace, "Threshold")

    def forward(self, x: Tensor) -> Tensor:
        return x.threshold(self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"
