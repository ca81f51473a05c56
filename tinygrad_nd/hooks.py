"""Handles returned by every `register_*hook` call, shared by tensors and modules."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """Removes a hook from the dict it was registered in; also a context manager.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.ones(2, requires_grad=True)
    >>> with x.register_hook(lambda g: g * 2):
    ...     (x * 3).sum().backward()
    >>> x.grad.tolist()
    [6.0, 6.0]
    """

    def __init__(self, hooks: dict[int, Any]) -> None:
        self.hooks = hooks
        self.id = next(_ids)

    def remove(self) -> None:
        """Unregister the hook (a no-op when already removed)."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: dict[int, Any], fn: Any) -> RemovableHandle:
    """Insert `fn` into an ordered hook dict and return its handle."""
    if not callable(fn):
        raise TypeError(f"register hook: expected a callable, got {type(fn).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle
