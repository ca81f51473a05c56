"""Modules that hold other modules: Sequential, ModuleList and the Residual wrapper."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..tensor import Tensor
from .module import Module


class Sequential(Module):
    """Apply modules in order; children are named ``0``, ``1``, ...

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
    >>> net(tg.zeros(5, 4)).shape, len(net), type(net[1]).__name__
    ((5, 2), 3, 'Sigmoid')
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i: int | slice) -> Any:
        mods = list(self._modules.values())
        return Sequential(*mods[i]) if isinstance(i, slice) else mods[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end."""
        setattr(self, str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (no forward of its own)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        setattr(self, str(len(self)), module)
        return self

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def forward(self, *args: Any) -> Any:
        raise TypeError("ModuleList has no forward; iterate over it instead")


class Residual(Module):
    """``x + f(x)``: the skip connection of residual networks (He et al., 2016).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.Residual(nn.Linear(3, 3))(tg.zeros(2, 3)).shape
    (2, 3)
    """

    def __init__(self, fn: Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        out = self.fn(x)
        if out.shape != x.shape:
            raise ValueError(f"Residual: the wrapped module maps shape {x.shape} to {out.shape}; "
                             "x + f(x) needs them equal")
        return x + out
