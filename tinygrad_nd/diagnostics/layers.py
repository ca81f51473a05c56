"""Finding the layers a diagnostic should look at, and naming them."""

from __future__ import annotations

import numpy as np

from .. import autograd, engine
from ..nn.activation import Activation
from ..nn.layers import Linear
from ..nn.module import Module, Parameter
from ..nn.normalization import LayerNorm, _BatchNorm
from ..tensor import Tensor


def weighted_layers(model: Module) -> list[tuple[str, Module]]:
    """Modules that own a `weight` parameter (Linear, Conv2d, BatchNorm ...), in call order
    of registration, with dotted names; the model itself is named `model`."""
    found = []
    for name, module in model.named_modules():
        if isinstance(module._parameters.get("weight"), Parameter):
            found.append((name or "model", module))
    return found


def mlp_layer_names(found: list[tuple[str, Module]]) -> list[str] | None:
    """The chapter's names for the weighted layers of a fully connected net: `"hidden 1"` ..
    `"hidden k"` and `"output"` for the Linear layers, `"hidden j BatchNorm1d"` for a
    normalisation layer after hidden layer j. `None` when `found` is not such a net (a
    convolution, or a normalisation before the first Linear): callers keep module paths.

    Examples
    --------
    >>> from tinygrad_nd import nn
    >>> net = nn.mlp([4, 3, 3, 2], activation="sigmoid", batchnorm=True)
    >>> mlp_layer_names(weighted_layers(net))
    ['hidden 1', 'hidden 1 BatchNorm1d', 'hidden 2', 'hidden 2 BatchNorm1d', 'output']
    """
    kinds = [isinstance(m, Linear) for _, m in found]
    if not kinds or not kinds[0] or not all(
            k or isinstance(m, (_BatchNorm, LayerNorm)) for k, (_, m) in zip(kinds, found)):
        return None
    n_linear, names, j = sum(kinds), [], 0
    for is_linear, (_, module) in zip(kinds, found):
        if is_linear:
            j += 1
            names.append("output" if j == n_linear else f"hidden {j}")
        else:
            names.append(f"{names[-1]} {type(module).__name__}")
    return names


def activation_layers(model: Module) -> list[tuple[str, Module]]:
    """Activation modules (subclasses of `nn.Activation`: Sigmoid, Tanh, ReLU, ... and a
    user's own) with dotted names."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Activation)]


def activation_slope(activation: Module, z: np.ndarray) -> np.ndarray:
    """The slope `f'(z)` of an elementwise activation at each element of `z`, in float64,
    taken from the autograd (`d sum f(z) / dz`), never from a hand-written table: right for
    every activation and its parameters (LeakyReLU's slope, ELU's alpha, Softplus' beta) and
    for a user's own.

    Examples
    --------
    >>> from tinygrad_nd import nn
    >>> activation_slope(nn.LeakyReLU(0.2), np.array([-1.0, 2.0])).tolist()
    [0.2, 1.0]
    """
    z = Tensor(np.asarray(z, dtype=np.float64), dtype=np.float64, requires_grad=True)
    with autograd.enable_grad():
        out = activation.forward(z)  # (forward, not __call__: no hooks fire)
        (slope,) = engine.grad(out.sum(), z, allow_unused=True)
    return np.zeros(z.shape) if slope is None else slope.data
