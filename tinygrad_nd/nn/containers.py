"""Modules that hold other modules or parameters: Sequential, ModuleList, ModuleDict,
ParameterList, ParameterDict and the Residual wrapper."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..tensor import Tensor
from .module import Module, Parameter


class Sequential(Module):
    """Apply modules in order; children are named `0`, `1`, ...

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
        """Add `module` at the end.

        Parameters
        ----------
        module : Module
            The new entry.
        """
        setattr(self, str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (no forward of its own).

    Parameters
    ----------
    modules : iterable of Module
        The initial entries.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add `module` at the end.

        Parameters
        ----------
        module : Module
            The new entry.
        """
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
    """`x + f(x)`: the skip connection of residual networks (He et al., 2016).

    Parameters
    ----------
    fn : Module
        The residual branch f; its output has the shape of its input.
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


def _check_key(key: Any, container: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{container}: keys must be strings, got {type(key).__name__} {key!r}")
    if "." in key or key == "":
        raise KeyError(f"{container}: key {key!r} must be a non-empty name without '.'")
    return key


class _NamedEntries:
    """The read side of a dict-like container, in insertion order: subclasses give
    `_names()`, `__getitem__` and `__delitem__`."""

    def _names(self) -> list[str]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        raise NotImplementedError

    def __delitem__(self, key: str) -> None:
        raise NotImplementedError

    def __setitem__(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names()))

    def __contains__(self, key: object) -> bool:
        return key in self._names()

    def keys(self) -> list[str]:
        """The keys, in order."""
        return list(self._names())

    def values(self) -> list[Any]:
        """The entries, in order."""
        return [self[k] for k in self._names()]

    def items(self) -> list[tuple[str, Any]]:
        """(key, entry) pairs, in order."""
        return [(k, self[k]) for k in self._names()]

    def pop(self, key: str) -> Any:
        """Remove `key` and return its entry."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every entry."""
        for key in self.keys():
            del self[key]

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace entries from a mapping or from (key, value) pairs."""
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        for key, value in pairs:
            self[key] = value


class ModuleDict(_NamedEntries, Module):
    """A dict of modules whose parameters are registered, in insertion order (no forward).

    Parameters
    ----------
    modules : mapping or iterable of (str, Module) pairs, optional
        The initial entries.
    Examples
    --------
    >>> from tinygrad_nd import nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    >>> list(heads), [name for name, _ in heads.named_parameters()][:2]
    (['cls', 'box'], ['cls.weight', 'cls.bias'])
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} is a {type(module).__name__}, not a Module")
        setattr(self, _check_key(key, "ModuleDict"), module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]
        object.__delattr__(self, key)

    def _names(self) -> list[str]:
        return list(self._modules)

    def forward(self, *args: Any) -> Any:
        raise TypeError("ModuleDict has no forward; index it instead")


def _as_parameter(value: Any) -> Parameter | None:
    """Tensors and arrays become Parameters (as PyTorch's containers do); None stays."""
    if value is None or isinstance(value, Parameter):
        return value
    return Parameter(value)


class ParameterList(Module):
    """A list of parameters, registered as `0`, `1`, ... (tensors are wrapped).

    Parameters
    ----------
    values : iterable, optional
        Parameters, Tensors or arrays (the latter two become Parameters).
    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> params = nn.ParameterList([tg.zeros(2), tg.ones(3)])
    >>> [name for name, _ in params.named_parameters()], params[1].requires_grad
    (['0', '1'], True)
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _index(self, i: int) -> str:
        if not -self._size <= i < self._size:
            raise IndexError(f"ParameterList: index {i} out of range for {self._size} items")
        return str(i % self._size)

    def __getitem__(self, i: int) -> Any:
        return getattr(self, self._index(i))

    def __setitem__(self, i: int, value: Any) -> None:
        self.register_parameter(self._index(i), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[i] for i in range(len(self))])

    def append(self, value: Any) -> ParameterList:
        """Add `value` (a Parameter, or a tensor made into one) at the end.

        Parameters
        ----------
        value : Parameter, Tensor or array
            The new entry.
        """
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every value of `values`.

        Parameters
        ----------
        values : iterable
            Parameters, Tensors or arrays.
        """
        for value in values:
            self.append(value)
        return self

    def forward(self, *args: Any) -> Any:
        raise TypeError("ParameterList has no forward; iterate over it instead")


class ParameterDict(_NamedEntries, Module):
    """A dict of parameters, registered under their keys in insertion order.

    Parameters
    ----------
    parameters : mapping or iterable of (str, value) pairs, optional
        The initial entries: Parameters, Tensors or arrays (the latter two become
        Parameters).
    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> params = nn.ParameterDict({"scale": tg.ones(1), "shift": tg.zeros(1)})
    >>> sorted(params.state_dict()), "scale" in params
    (['scale', 'shift'], True)
    """

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", [])
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        _check_key(key, "ParameterDict")
        if key not in self._keys:
            self._keys.append(key)
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        self._keys.remove(key)
        self._parameters.pop(key, None)
        object.__delattr__(self, key)

    def _names(self) -> list[str]:
        return self._keys

    def forward(self, *args: Any) -> Any:
        raise TypeError("ParameterDict has no forward; index it instead")
