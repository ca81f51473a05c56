"""`Module` and `Parameter`: the tree of layers, its parameters, state and hooks."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import autograd
from ..hooks import RemovableHandle, add_hook
from ..tensor import Tensor
from ._state_files import read_state, write_state


class Parameter(Tensor):
    """A leaf tensor that a `Module` registers as learnable (`requires_grad=True`).

    Unlike `Tensor(...)`, a float array or Tensor keeps its dtype (as PyTorch's
    `nn.Parameter` does): `Parameter(np.zeros(3))` is float64. Python lists of floats
    get the default dtype.

    Parameters
    ----------
    data : array-like or Tensor
        The initial value.
    requires_grad : bool
        Whether the optimizer should learn it (False for a frozen parameter).
    dtype : numpy dtype, optional
        The dtype (default: a float array's own, else the default dtype).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nd import nn
    >>> nn.Parameter([1.0, 2.0]).requires_grad
    True
    >>> nn.Parameter(np.zeros(2)).dtype
    dtype('float64')
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        values = data.data if isinstance(data, Tensor) else data
        kept = getattr(values, "dtype", None)  # ndarrays and numpy scalars
        if dtype is None and kept is not None and kept.kind == "f":
            dtype = kept
        super().__init__(values, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class _BackwardHookCall:
    """Collects one module call's grad_output and grad_input, then runs the backward hooks."""

    def __init__(self, module: Module, n_inputs: int, n_live: int) -> None:
        self.module = module
        self.grad_output: tuple[Tensor | None, ...] = (None,)
        self.grad_input: list[Tensor | None] = [None] * n_inputs  # None: needs no gradient
        self.pending = n_live

    def on_output(self, g: Tensor) -> None:
        self.grad_output = (g,)
        if self.pending == 0:
            self.fire()

    def on_input(self, i: int) -> Callable[[Tensor], Tensor | None]:
        def hook(g: Tensor) -> Tensor | None:
            self.grad_input[i] = g
            self.pending -= 1
            if self.pending == 0:
                replaced = self.fire()
                if replaced is not None:
                    return replaced[i]
            return None
        return hook

    def fire(self) -> tuple[Tensor | None, ...] | None:
        result = None
        for hook in tuple(self.module._backward_hooks.values()):
            out = hook(self.module, tuple(self.grad_input), self.grad_output)
            if out is not None:
                result = tuple(out)
                self.grad_input = list(result)
        return result


def _from_torch(value: Any, key: str) -> Any:
    """A `torch.Tensor` as a numpy array (so `torch_model.state_dict()` loads as it
    comes, without importing torch here); any other value unchanged."""
    if not type(value).__module__.startswith("torch") or not hasattr(value, "detach"):
        return value
    try:
        return value.detach().cpu().numpy()
    except TypeError as e:  # bfloat16 and other dtypes numpy has not
        raise TypeError(f"load_state_dict: {key!r} is a torch tensor of dtype {value.dtype}, "
                        f"which numpy cannot hold ({e})") from None


class Module:
    """Base class of layers and models, with PyTorch's names and habits.

    Assigning a `Parameter` or a `Module` as an attribute registers it; `forward`
    defines the computation and calling the module runs it with its hooks.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(3, 2)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> [name for name, _ in Net().named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_backward_hooks", {})
        object.__setattr__(self, "training", True)

    # ---- registration -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               "assigning attributes")
        replaces_buffer = name in self._buffers and (
            value is None or (isinstance(value, Tensor) and not isinstance(value, Parameter)))
        if replaces_buffer:
            self._buffers[name] = value  # assigning to a buffer replaces it, as in PyTorch
        else:
            for store in (self._parameters, self._modules, self._buffers):
                store.pop(name, None)
            if isinstance(value, Parameter):
                self._parameters[name] = value
            elif isinstance(value, Module):
                self._modules[name] = value
        # Registered values are mirrored in __dict__, so `self.weight` in a forward is a
        # plain attribute lookup (a __getattr__ fallback is several times slower; see
        # docs/performance.md).
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: search the registries, else fail loudly.
        for store in ("_parameters", "_modules", "_buffers"):
            table = self.__dict__.get(store)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register non-learnable state (e.g. BatchNorm running statistics) saved in state_dict.

        Parameters
        ----------
        name : str
            The attribute name (and state_dict key).
        tensor : Tensor or None
            The buffer's value (None registers the name without a value).
        """
        for store in (self._parameters, self._modules):
            store.pop(name, None)
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (`None` registers no parameter, e.g. no bias).

        Parameters
        ----------
        name : str
            The attribute name (and state_dict key).
        param : Parameter or None
            The parameter.
        """
        if param is None:
            object.__setattr__(self, name, None)
        else:
            self.__setattr__(name, param)

    # ---- traversal --------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, with dotted names (this one is `""`).

        Parameters
        ----------
        prefix : str
            Prepended to every name (this module's own name is `prefix`).
        """
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and all below it."""
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names."""
        return ((k, m) for k, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        """Direct sub-modules."""
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """All parameters with dotted names such as `layers.0.weight` (shared ones once).

        Parameters
        ----------
        prefix : str
            Prepended to every name, with a dot.
        """
        seen: set[int] = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self) -> Iterator[Parameter]:
        """All parameters (for an optimizer)."""
        return (p for _, p in self.named_parameters())

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """All buffers with dotted names."""
        for mod_name, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def num_parameters(self) -> int:
        """Total number of learnable scalars."""
        return sum(p.size for p in self.parameters())

    # ---- modes and gradients ----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active, BatchNorm uses batch statistics) on all modules.

        Parameters
        ----------
        mode : bool
            True for training mode, False for evaluation mode (as `eval()`).
        """
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode; same as `train(False)`."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Clear every parameter's `.grad` (set to None, as PyTorch does by default)."""
        for p in self.parameters():
            p.grad = None

    # ---- calling and hooks --------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)  # the common case: no hooks at all
        for hook in tuple(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        call = None
        if self._backward_hooks and autograd.is_grad_enabled():
            call, args = self._attach_input_hooks(args)
        output = self.forward(*args, **kwargs)
        for hook in tuple(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        if call is not None and isinstance(output, Tensor) and output.requires_grad:
            output = output.reshape(output.shape)  # a node of its own to hook
            output.register_hook(call.on_output)
        return output

    def _attach_input_hooks(self, args: tuple[Any, ...]) -> tuple[_BackwardHookCall, tuple]:
        # Inputs pass through an identity node each, so the hook sees only the gradient that
        # flows through this module, not what other users of the same tensor add.
        tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        live = [slot for slot, i in enumerate(tensors) if args[i].requires_grad]
        call = _BackwardHookCall(self, len(tensors), len(live))
        args = list(args)
        for slot in live:
            i = tensors[slot]
            args[i] = args[i].reshape(args[i].shape)
            args[i].register_hook(call.on_input(slot))
        return call, tuple(args)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, inputs)` before forward; may return replacement inputs.

        Parameters
        ----------
        hook : callable
            The function to call; remove it with the returned handle's `remove()`.
        """
        return add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, inputs, output)` after forward; may return a replacement output.

        Parameters
        ----------
        hook : callable
            The function to call; remove it with the returned handle's `remove()`.
        """
        return add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, grad_input, grad_output)` once the gradients with respect to the
        module's tensor inputs are known (`None` for inputs that need no gradient); may
        return replacement `grad_input`.

        Parameters
        ----------
        hook : callable
            The function to call; remove it with the returned handle's `remove()`.
        """
        return add_hook(self._backward_hooks, hook)

    # ---- state ------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Copies of all parameters and buffers, by dotted name."""
        items = list(self.named_parameters()) + list(self.named_buffers())
        return OrderedDict((k, Tensor(v.data.copy(), dtype=v.dtype)) for k, v in items)

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values from `state` into this model's parameters and buffers.

        Everything is validated first (names when `strict`; for every value: a numeric
        array or Tensor of the model's shape and dtype); on any error nothing is changed and
        the error names the offending key.

        Parameters
        ----------
        state : mapping
            Names (as `state_dict()` gives them) to arrays or Tensors.
        strict : bool
            Require exactly this model's names: none missing, none unexpected.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays (such as "
                            f"state_dict() returns), got {type(state).__name__}")
        own = dict(list(self.named_parameters()) + list(self.named_buffers()))
        if strict:
            missing = sorted(set(own) - set(state))
            unexpected = sorted(set(state) - set(own), key=str)
            if missing or unexpected:
                raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                               f"{unexpected}")
        updates = []
        for key, value in state.items():
            if key not in own:
                continue
            array = value.data if isinstance(value, Tensor) else _from_torch(value, key)
            if not isinstance(array, np.ndarray | np.generic) or array.dtype.kind not in "biufc":
                raise TypeError(f"load_state_dict: {key!r} must be a numeric array or Tensor, "
                                f"got {type(value).__name__}")
            target = own[key]
            if array.shape != target.shape:
                raise ValueError(f"load_state_dict: {key!r} has shape {array.shape} in the "
                                 f"state dict but {target.shape} in the model")
            if array.dtype != target.dtype:
                raise TypeError(f"load_state_dict: {key!r} has dtype {array.dtype} in the state "
                                f"dict but {target.dtype} in the model")
            updates.append((target, array))
        # Commit: every check passed, and copying between equal shapes and dtypes cannot fail.
        with autograd.no_grad():
            for target, array in updates:
                target.copy_(array)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state dict to `.safetensors` (default) or `.npz`, atomically and
        durably: a temporary file in the same folder, fsynced, then renamed over `path`.

        After a crash, power cut or error (a full disk, `KeyboardInterrupt`) `path` holds
        either its old content or the complete new one and no temporary file is left behind
        (only `SIGKILL` or a power cut can leave one, named `.<name>.<random>.tmp`). A new
        file gets the permissions `open()` would give it.

        Parameters
        ----------
        path : str or PathLike
            The file; `.npz` writes numpy's format, anything else safetensors.

        Examples
        --------
        >>> import os, tempfile
        >>> from tinygrad_nd import nn
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "model.safetensors")
        ...     nn.Linear(3, 2).save(path)
        ...     nn.Linear(3, 2).load(path)
        """
        arrays = {k: np.ascontiguousarray(v.data) for k, v in self.state_dict().items()}
        write_state(os.fspath(path), arrays)

    def load(self, path: str | os.PathLike[str], strict: bool = True) -> None:
        """Load a file written by `save` (validated as in `load_state_dict`).

        Each entry's header (name, shape, dtype) is checked against this model before its data
        is read, so a foreign or crafted file (a header claiming gigabytes, a zip member that
        inflates far beyond its header, an object array) is refused with an error naming the
        file and the entry, without a large allocation. Files written by `save` carry a
        CRC32 per entry (zip's own for `.npz`, in the metadata for safetensors), so a
        flipped bit is an error, not a wrong weight. On any error the model is unchanged.

        Parameters
        ----------
        path : str or PathLike
            A `.safetensors` or `.npz` file.
        strict : bool
            Require exactly this model's names, as in `load_state_dict`.
        """
        own = list(self.named_parameters()) + list(self.named_buffers())
        expected = {k: (tuple(v.shape), v.dtype) for k, v in own}
        self.load_state_dict(read_state(os.fspath(path), expected, strict), strict=strict)

    # ---- display ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """Layer settings shown inside the parentheses of `repr`."""
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(m).replace("\n", "\n  ")
                    for name, m in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        body = head + ("\n  " + "\n  ".join(children) + "\n)" if children else ")")
        if any(True for _ in self.named_children()):
            body += f"  # {self.num_parameters():,} parameters"
        return body
