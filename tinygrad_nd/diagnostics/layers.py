"""Finding the layers a diagnostic should look at, and naming them."""

from __future__ import annotations

from ..nn.activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from ..nn.module import Module, Parameter

ACTIVATIONS = (Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Softplus)


def weighted_layers(model: Module) -> list[tuple[str, Module]]:
    """Modules that own a ``weight`` parameter (Linear, Conv2d, BatchNorm ...), in call order
    of registration, with dotted names; the model itself is named ``model``."""
    found = []
    for name, module in model.named_modules():
        if isinstance(module._parameters.get("weight"), Parameter):
            found.append((name or "model", module))
    return found


def activation_layers(model: Module) -> list[tuple[str, Module]]:
    """Activation modules (Sigmoid, Tanh, ReLU, ...) with dotted names."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, ACTIVATIONS)]
