"""Weight initialisers (in place, under `no_grad`) and the named schemes layers accept.

Schemes, as `init=` of `Linear`/`Conv2d` (weight rule / bias rule):

| scheme | weight | bias |
|---|---|---|
| `"pytorch"` | U(-1/sqrt(fan_in), 1/sqrt(fan_in)) | same (PyTorch default) |
| `"standard"` | N(0, 1): chapter 5's starting point | N(0, 1) |
| `"nielsen"` | N(0, 1/fan_in): network2's default | N(0, 1) |
| `"large"` | N(0, 1): network2's large_weight_init | N(0, 1) |
| `"xavier_uniform"` | U(-a, a), a = sqrt(6/(fan_in+fan_out)) | zeros |
| `"xavier_normal"` | N(0, 2/(fan_in+fan_out)) | zeros |
| `"kaiming_uniform"` | U(-b, b), b = sqrt(6/fan_in) (He, ReLU) | zeros |
| `"kaiming_normal"` | N(0, 2/fan_in) (He, ReLU) | zeros |
| `"lecun_normal"` | N(0, 1/fan_in) | zeros |
| `"zeros"` | zeros | zeros |
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..factories import Generator, rng_of
from ..tensor import Tensor

GAINS = {"linear": 1.0, "identity": 1.0, "conv2d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
         "relu": math.sqrt(2.0), "selu": 0.75}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for an activation (PyTorch's table); `leaky_relu` takes its slope.

    Parameters
    ----------
    nonlinearity : str
        The activation's name, e.g. `"relu"`, `"tanh"`, `"sigmoid"`.
    param : float, optional
        The negative slope of `leaky_relu` (default 0.01).
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in GAINS:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one "
                         f"of {sorted(GAINS) + ['leaky_relu']}")
    return GAINS[nonlinearity]


def fans(t: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (out, in) for Linear, (out, in, kh, kw) for Conv2d.

    Parameters
    ----------
    t : Tensor
        A weight with at least 2 dims.
    """
    if t.ndim < 2:
        raise ValueError(f"fans: need a weight with at least 2 dims, got shape {t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    if t.dtype.kind != "f":  # random or fractional values would be silently truncated
        raise TypeError(f"init: expected a floating-point tensor to fill, got dtype {t.dtype} "
                        f"(shape {t.shape})")
    with autograd.no_grad():
        t.copy_(values.astype(t.dtype))
    return t


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std**2) samples.

    Parameters
    ----------
    t : Tensor
        The tensor to fill in place (a float one); it is returned.
    mean, std : float
        The normal law's mean and standard deviation.
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    return _fill(t, rng_of(generator).normal(mean, std, t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b) samples.

    Parameters
    ----------
    t : Tensor
        The tensor to fill in place (a float one); it is returned.
    a, b : float
        The interval's bounds.
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    return _fill(t, rng_of(generator).uniform(a, b, t.shape))


def constant_(t: Tensor, value: float) -> Tensor:
    """Fill with `value`.

    Parameters
    ----------
    t : Tensor
        The tensor to fill in place (a float one); it is returned.
    value : float
        The value of every element.
    """
    return _fill(t, np.full(t.shape, value))


def zeros_(t: Tensor) -> Tensor:
    """Fill with zeros.

    Parameters
    ----------
    t : Tensor
        The tensor to fill in place (a float one); it is returned.
    """
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fill with ones.

    Parameters
    ----------
    t : Tensor
        The tensor to fill in place (a float one); it is returned.
    """
    return constant_(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Parameters
    ----------
    t : Tensor
        The weight to fill in place, (out, in, ...); it is returned.
    gain : float
        Scale factor (see `calculate_gain`).
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    fan_in, fan_out = fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, gain**2 * 2 / (fan_in + fan_out)).

    Parameters
    ----------
    t : Tensor
        The weight to fill in place, (out, in, ...); it is returned.
    gain : float
        Scale factor (see `calculate_gain`).
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    fan_in, fan_out = fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(t: Tensor, a: float = 0.0, nonlinearity: str = "relu",
                     generator: Generator | None = None) -> Tensor:
    """He et al. (2015): U(-b, b), b = gain * sqrt(3 / fan_in).

    Parameters
    ----------
    t : Tensor
        The weight to fill in place, (out, in, ...); it is returned.
    a : float
        The negative slope of a leaky ReLU (for the gain).
    nonlinearity : str
        The activation that follows, for the gain (`calculate_gain`).
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / fans(t)[0])
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t: Tensor, a: float = 0.0, nonlinearity: str = "relu",
                    generator: Generator | None = None) -> Tensor:
    """He et al. (2015): N(0, gain**2 / fan_in).

    Parameters
    ----------
    t : Tensor
        The weight to fill in place, (out, in, ...); it is returned.
    a : float
        The negative slope of a leaky ReLU (for the gain).
    nonlinearity : str
        The activation that follows, for the gain (`calculate_gain`).
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    gain = calculate_gain(nonlinearity, a)
    return normal_(t, 0.0, gain / math.sqrt(fans(t)[0]), generator)


def lecun_normal_(t: Tensor, generator: Generator | None = None) -> Tensor:
    """LeCun (1998): N(0, 1 / fan_in).

    Parameters
    ----------
    t : Tensor
        The weight to fill in place, (out, in, ...); it is returned.
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    return normal_(t, 0.0, 1.0 / math.sqrt(fans(t)[0]), generator)


def nielsen_(t: Tensor, generator: Generator | None = None) -> Tensor:
    """Nielsen's network2 default: N(0, 1/fan_in) (the same law as LeCun's).

    Parameters
    ----------
    t : Tensor
        The weight to fill in place, (out, in, ...); it is returned.
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    return lecun_normal_(t, generator)


InitFn = Callable[[Tensor, int, Any], Any]


def _pytorch_default(t: Tensor, fan_in: int, generator: Any) -> Any:
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(t, -bound, bound, generator)


def _standard(t: Tensor, fan_in: int, generator: Any) -> Any:
    return normal_(t, 0.0, 1.0, generator)


def _zeros(t: Tensor, fan_in: int, generator: Any) -> Any:
    return zeros_(t)


def _weights_only(fn: Callable[..., Tensor]) -> InitFn:
    return lambda t, fan_in, generator: fn(t, generator=generator)


SCHEMES: dict[str, tuple[InitFn, InitFn]] = {
    "pytorch": (_pytorch_default, _pytorch_default),
    "standard": (_standard, _standard),
    "large": (_standard, _standard),
    "nielsen": (_weights_only(nielsen_), _standard),
    "xavier_uniform": (_weights_only(xavier_uniform_), _zeros),
    "xavier_normal": (_weights_only(xavier_normal_), _zeros),
    "kaiming_uniform": (_weights_only(kaiming_uniform_), _zeros),
    "kaiming_normal": (_weights_only(kaiming_normal_), _zeros),
    "lecun_normal": (_weights_only(lecun_normal_), _zeros),
    "zeros": (_zeros, _zeros),
}


def init_layer(weight: Tensor, bias: Tensor | None, scheme: str | Callable[..., Any],
               generator: Generator | None = None) -> None:
    """Initialise a layer's weight and bias with a named scheme or `fn(weight, bias)`.

    Parameters
    ----------
    weight : Tensor
        The layer's weight.
    bias : Tensor or None
        The layer's bias, if it has one.
    scheme : str or callable
        A name from the table above, or `fn(weight, bias)` (run under `no_grad`).
    generator : Generator, optional
        The source of random numbers (default: the default generator).
    """
    if callable(scheme):
        with autograd.no_grad():
            scheme(weight, bias)
        return
    if scheme not in SCHEMES:
        raise ValueError(f"init: unknown scheme {scheme!r}; expected one of {sorted(SCHEMES)} "
                         "or a callable fn(weight, bias)")
    weight_rule, bias_rule = SCHEMES[scheme]
    fan_in = fans(weight)[0]
    weight_rule(weight, fan_in, generator)
    if bias is not None:
        bias_rule(bias, fan_in, generator)
