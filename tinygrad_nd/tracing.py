"""Label graph nodes with the module that created them (for grad_health and the drawer)."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from .nn.module import Module
from .tensor import Tensor

# What tracing remembers about a node lives here, not on the engine's Context: op context ->
# label of the module that ran it (entries go with their graph).
_module_labels: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def module_label(ctx: Any) -> str | None:
    """Label of the module whose forward ran the op of `ctx` (`"2 (Linear)"`), if the op
    was recorded inside `trace_modules`.

    Parameters
    ----------
    ctx : Context or None
        A node's context (`tensor._ctx`); None for a leaf.
    """
    return _module_labels.get(ctx) if ctx is not None else None


def tag_graph(output: Any, inputs: tuple[Any, ...], label: str) -> None:
    """Label the contexts of the ops between `inputs` and `output` with `label`.

    Inner modules finish their forward first, so the innermost module's label wins: ops that
    already carry a label keep it.

    Parameters
    ----------
    output : Tensor
        The module's output (anything else is ignored).
    inputs : tuple
        The module's inputs: the walk back from `output` stops at them.
    label : str
        The label, e.g. `"2 (Linear)"`.
    """
    if not isinstance(output, Tensor):
        return
    stop = {id(t) for t in inputs if isinstance(t, Tensor)}
    stack, seen = [output], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or id(t) in stop or t._ctx is None:
            continue
        seen.add(id(t))
        if t._ctx not in _module_labels:
            _module_labels[t._ctx] = label
        stack.extend(t._ctx.inputs)


class trace_modules:
    """While active, every op run inside a module of `model` is labelled with the module's
    dotted name and type, e.g. `"2 (Linear)"` (read back with `module_label`).

    Parameters
    ----------
    model : Module
        The model whose modules (itself included) label the ops they run.
    """

    def __init__(self, model: Module) -> None:
        self.model = model
        self.handles: list[Any] = []
        self.stack: list[str] = []  # labels of the module calls under way, innermost last

    @property
    def current(self) -> str | None:
        """Label of the innermost module whose forward is running, if any."""
        return self.stack[-1] if self.stack else None

    def __enter__(self) -> trace_modules:
        # Like the engine's observers, tracing is per thread: the same model run by another
        # thread meanwhile is neither labelled nor allowed to disturb this thread's stack.
        self.thread = threading.get_ident()
        for name, module in self.model.named_modules():
            label = f"{name or 'model'} ({type(module).__name__})"
            self.handles.append(module.register_forward_pre_hook(self._enter_module(label)))
            self.handles.append(module.register_forward_hook(self._leave_module(label)))
        return self

    def _enter_module(self, label: str) -> Any:
        def hook(module: Module, inputs: tuple[Any, ...]) -> None:
            if threading.get_ident() == self.thread:
                self.stack.append(label)
        return hook

    def _leave_module(self, label: str) -> Any:
        def hook(module: Module, inputs: tuple[Any, ...], out: Any) -> None:
            if threading.get_ident() == self.thread:
                self.stack.pop()
                tag_graph(out, inputs, label)
        return hook

    def __exit__(self, *exc: object) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()
