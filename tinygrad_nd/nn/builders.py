"""Builders for common architectures out of the layer modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import factories
from .activation import Activation
from .containers import Residual, Sequential
from .layers import BatchNorm1d, Linear
from .module import Module

ActivationSpec = str | type[Module] | Callable[[], Module]


def activation_module(spec: ActivationSpec) -> Module:
    """A fresh activation module from a name (`"relu"`, `"leaky_relu"`, `"SiLU"`: any
    `Activation` subclass, case and underscores ignored), a class or a factory."""
    if not isinstance(spec, str):
        return spec()
    key = spec.replace("_", "").lower()
    found = {cls.__name__.lower(): cls for cls in _all_subclasses(Activation)}
    if key not in found:
        raise ValueError(f"mlp: unknown activation {spec!r}; expected one of "
                         f"{sorted(found)} or an activation class")
    return found[key]()


def _all_subclasses(cls: type) -> list[type]:
    out, stack = [], list(cls.__subclasses__())
    while stack:
        sub = stack.pop()
        out.append(sub)
        stack.extend(sub.__subclasses__())
    return out


def mlp(sizes: Sequence[int], activation: ActivationSpec = "relu", init: str = "pytorch",
        output: ActivationSpec | None = None, batchnorm: bool = False, residual: bool = False,
        generator: factories.Generator | None = None, dtype: Any = None) -> Sequential:
    """A fully connected net `sizes[0] -> sizes[1] -> ... -> sizes[-1]`.

    Parameters
    ----------
    sizes : layer widths, input first (at least two).
    activation : after each hidden layer: a name, an activation class or a factory.
    init : weight initialisation of every Linear (see `nn.init`), e.g. `"pytorch"`,
        `"kaiming_normal"`, `"xavier_normal"` or Nielsen's `"nielsen"`.
    output : activation after the last layer (`None`: logits).
    batchnorm : insert `BatchNorm1d` before each hidden activation.
    residual : wrap each hidden block whose input and output widths agree in `Residual`.
    generator : for the initial weights (reproducible nets).
    dtype : of the parameters (float32 by default).

    Examples
    --------
    >>> from tinygrad_nd import nn
    >>> nn.mlp([784, 30, 10], activation="sigmoid")
    Sequential(
      (0): Linear(in_features=784, out_features=30, bias=True)
      (1): Sigmoid()
      (2): Linear(in_features=30, out_features=10, bias=True)
    )  # 23,860 parameters
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least an input and an output width, got {sizes}")
    layers: list[Module] = []
    last = len(sizes) - 2
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = Linear(n_in, n_out, init=init, generator=generator, dtype=dtype)
        if i == last:
            layers.append(linear)
            if output is not None:
                layers.append(activation_module(output))
            break
        block: list[Module] = [linear]
        if batchnorm:
            block.append(BatchNorm1d(n_out, dtype=dtype))
        block.append(activation_module(activation))
        if residual and n_in == n_out:
            layers.append(Residual(Sequential(*block)))
        else:
            layers.extend(block)
    return Sequential(*layers)
