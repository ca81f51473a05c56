"""numpy's floating-point error state (`np.errstate`), entered cheaply on hot paths.

Ops that produce IEEE specials on purpose (log 0 = -inf, inf - inf = nan) and the engine's
backward walk run under `np.errstate` so numpy does not warn where PyTorch is silent. On a
tiny graph, building numpy's error-state object on every call is a visible share of a
training step, so `Ignoring` builds it once per surrounding state and then only
switches numpy's context variable, which is what `np.errstate` itself does (numpy >= 2).
Semantics are `np.errstate`'s: thread- and task-local, nested states respected (a kind
not named keeps the caller's setting), restored on exit even after an exception.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

try:  # numpy >= 2 keeps the error state in a context variable
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
except ImportError:  # numpy 1.x: fall back to np.errstate itself
    _extobj_contextvar = _make_extobj = None


class Ignoring:
    """`np.errstate(**kinds)` as a reusable object: `token = s.enter()` / `s.exit(token)`,
    or `@s` as a decorator.

    >>> s = Ignoring(invalid="ignore")
    >>> float(s(lambda: np.sum([np.inf, -np.inf]))())
    nan
    """

    def __init__(self, **kinds: str) -> None:
        np.errstate(**kinds)  # validates the names and values now, not on first use
        self.kinds = kinds
        # numpy's current state object -> the same state with `kinds` applied. States are
        # few (the default, plus whatever errstate blocks callers use); bounded anyway.
        self._derived: dict[Any, Any] = {}
        # `exit(token)`: numpy's own reset, called directly (no Python frame on hot paths)
        self.exit: Callable[[Any], None] = (_exit_errstate if _extobj_contextvar is None
                                            else _extobj_contextvar.reset)

    def enter(self) -> Any:
        """Apply the state; return the token `exit(token)` needs to restore the previous one."""
        if _extobj_contextvar is None:
            state = np.errstate(**self.kinds)
            state.__enter__()
            return state
        current = _extobj_contextvar.get()
        derived = self._derived.get(current)
        return _extobj_contextvar.set(derived if derived is not None
                                      else self._derived_from(current))

    def _derived_from(self, current: Any) -> Any:
        derived = self._derived.get(current)
        if derived is None:
            if len(self._derived) >= 64:
                self._derived.clear()
            # (_make_extobj fills the kinds not named from the current state)
            derived = self._derived[current] = _make_extobj(**self.kinds)
        return derived

    def __call__(self, fn: F) -> F:
        if _extobj_contextvar is None:
            # (numpy 1's errstate keeps its saved state on the instance: one per call)
            @functools.wraps(fn)
            def run_with_block(*args: Any, **kwargs: Any) -> Any:
                with np.errstate(**self.kinds):
                    return fn(*args, **kwargs)

            return run_with_block  # type: ignore[return-value]
        state, derived = _extobj_contextvar, self._derived

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            # (enter() inlined: this wraps hot forwards such as sum)
            current = state.get()
            token = state.set(derived[current] if current in derived
                              else self._derived_from(current))
            try:
                return fn(*args, **kwargs)
            finally:
                state.reset(token)

        return run  # type: ignore[return-value]


def _exit_errstate(token: Any) -> None:
    token.__exit__(None, None, None)
