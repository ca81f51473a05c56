"""A recorded training step replayed as a flat list of numpy calls: `tg.jit`.

The idea is jax.jit's and torch.compile's, in numpy. An eager step spends most of its time
on bookkeeping, not arithmetic: each op builds a Tensor and a Context, each module call
checks its hooks, `backward()` sorts the graph and keeps gradients in a dict keyed by
tensors, the optimizer walks its parameter groups. None of that changes from one batch to
the next. So `@tg.jit` runs the step eagerly while *recording* it (every op's forward with
its inputs and parameters, the backward pass's plan, the optimizer calls, the side effects
of dropout and batch norm), and from then on *replays* the recording: a flat list of calls
of the very same numpy functions (each op's `forward` and `backward`, the engine's
un-broadcasting and accumulation, the optimizer's step) on the new batch's arrays, with the
graph decisions (which op feeds which, which gradient goes where, in what order) already
taken. The same functions on the same arrays in the same order: the results are the eager
step's, bit for bit.

Safety comes first (a replay is exact or it does not happen):

* A replay runs only when the call matches the recording: the shapes and dtypes of the array
  arguments, the other arguments' values, grad mode, the parameters (same tensors, shapes,
  dtypes and `requires_grad`), each optimizer's parameter list and each module's
  `training` flag. Otherwise the step is recorded again (`strict=True` raises instead).
* A step is replayed only after two recordings agree: anything the function computed
  outside tinygrad_nd's ops (a constant, a Python number) must be the same in both, or the
  jit refuses with a warning naming it (values computed from the batch outside the ops would
  otherwise be frozen). In-place changes of tensors must come from the optimizer, the
  declared side effects (`tinygrad_nd.side_effects`) or `add_`/`mul_`/`copy_`/
  `fill_` with recorded operands.
* What cannot be replayed runs eagerly, with a `JitWarning` saying why: tensor and
  module hooks (so the diagnostics monitors keep working), engine observers,
  `create_graph=True`, `tg.grad`, `retain_grad()` on intermediates, reading a
  tensor's value into Python inside the step (`.item()`, `float()`, `bool()`).

Like jax.jit, tensors the function reads from its closure (the model's parameters, a
constant input) are captured by reference: their current values are used on each replay,
but rebinding a Python variable to a new tensor is not seen. Python-level checks inside
composites (a label's range, say) run while recording only.

Examples
--------
>>> import numpy as np, tinygrad_nd as tg
>>> from tinygrad_nd import nn, optim
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> opt = optim.SGD(model.parameters(), lr=0.1)
>>> @tg.jit
... def step(x, y):
...     loss = nn.functional.cross_entropy(model(tg.Tensor(x)), y)
...     opt.zero_grad()
...     loss.backward()
...     opt.step()
...     return loss
>>> x, y = np.ones((5, 4), np.float32), np.arange(5) % 3
>>> losses = [round(step(x, y).item(), 4) for _ in range(3)]   # record, record, replay
>>> step.replays
1
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor
from .recorder import Recorder, compare, recording
from .tape import Tape

__all__ = ["jit", "Jit", "JitError", "JitWarning"]

_MAX_SIGNATURES = 16  # recordings kept per function (a different last batch adds one)


class JitError(RuntimeError):
    """Raised by a `strict` jit function that would record again or run eagerly."""


class JitWarning(UserWarning):
    """A jit function runs eagerly for a reason named in the message."""


def jit(fn: Callable[..., Any] | None = None, *, strict: bool = False) -> Any:
    """Compile a training step: record it on its first calls, replay it as flat numpy calls.

    Parameters
    ----------
    fn : the step, a function of the batch (arrays, Tensors or Python values) that runs
        forward, `backward()` and `opt.step()`; it may return Tensors (the loss).
    strict : raise `JitError` instead of recording again when a call does not match
        the recording, or instead of running eagerly (with a warning) what cannot be replayed.

    Returns
    -------
    Jit
        Callable like `fn`; the returned Tensors hold the step's values (without a graph).

    Examples
    --------
    >>> import numpy as np, tinygrad_nd as tg
    >>> w = tg.Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    >>> @tg.jit(strict=True)
    ... def grad_step(x):
    ...     w.grad = None
    ...     loss = (tg.Tensor(x) @ w).sigmoid().sum()
    ...     loss.backward()
    ...     return loss
    >>> x = np.eye(2, dtype=np.float32)
    >>> [round(grad_step(x).item(), 4) for _ in range(3)], grad_step.replays
    ([2.9242, 2.9242, 2.9242], 1)
    """
    if fn is None:
        return lambda f: Jit(f, strict)
    return Jit(fn, strict)


class Jit:
    """A function compiled by `jit`; see there. `replays` counts replayed calls,
    `recordings` recorded ones, `renewed` the buffers written fresh because something
    still held the previous ones, and `tape_text` prints the last tape.

    Parameters
    ----------
    fn : callable
        The training step to compile (see `jit`).
    strict : bool, default False
        Raise `JitError` instead of recording again or running eagerly.
    """

    def __init__(self, fn: Callable[..., Any], strict: bool = False) -> None:
        self.fn, self.strict = fn, strict
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)
        self.replays = self.recordings = 0
        self._entries: dict[Any, _Entry] = {}
        self._last: Tape | None = None
        self._hot: Tape | None = None
        self._warned: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hot = self._hot  # the tape replayed last: one generated check admits the call
        if hot is not None and not kwargs and hot.ready(args) and \
                not getattr(recording, "active", False):
            self.replays += 1
            with hot.lock:
                return hot.run(args)
        if getattr(recording, "active", False):  # inside another jit's recording
            return self.fn(*args, **kwargs)
        flat = args if not kwargs else args + tuple(kwargs[k] for k in sorted(kwargs))
        key = (_signature(flat), tuple(sorted(kwargs)), autograd._grad_enabled())
        entry = self._entries.get(key)
        if entry is not None and entry.tape is not None:
            reason = entry.tape.blocked()
            if reason is None:
                self.replays += 1
                self._hot = entry.tape
                with entry.tape.lock:  # replays share the tape's contexts: one at a time
                    return entry.tape.run(flat)
            if reason.startswith("eager:"):  # hooks/observers now: run eagerly, keep the tape
                return self._eager(reason[6:], args, kwargs)
            self._refuse_strict(f"the call does not match the recording ({reason})")
            entry = None
        elif entry is not None and entry.refused is not None:
            return self._eager(entry.refused, args, kwargs)
        elif entry is None and self._entries:
            recorded = "; ".join(_describe_key(k) for k in self._entries)
            self._refuse_strict("the arguments' shapes, dtypes or values, or grad mode, "
                                f"differ from every recording: got {_describe_key(key)}, "
                                f"recorded {recorded}")
        if entry is None:
            if len(self._entries) >= _MAX_SIGNATURES:
                self._entries.pop(next(iter(self._entries)))
            entry = self._entries[key] = _Entry()
        return self._record(entry, key, flat, args, kwargs)

    # ---- recording ---------------------------------------------------------------------
    def _record(self, entry: _Entry, key: Any, flat: tuple[Any, ...], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        self.recordings += 1
        recorder = Recorder(flat)
        result = recorder.run(self.fn, args, kwargs)
        reason = recorder.refused or recorder.finish(result)
        if reason is not None:
            entry.refused = reason
            self._warn(reason)
            return result
        if entry.first is None:
            entry.first = recorder
            return result
        reason = compare(entry.first.description(), recorder.description())
        if reason is not None:
            entry.refused = ("two recordings of the step differ: " + reason + "; values "
                             "computed outside tinygrad_nd ops must be passed as arguments")
            self._warn(entry.refused)
            return result
        entry.first = None
        entry.tape = self._last = Tape(recorder, key)
        return result

    def _eager(self, reason: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._warn(reason)
        return self.fn(*args, **kwargs)

    def _warn(self, reason: str) -> None:
        self._refuse_strict(reason)
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"jit({self.__name__}): runs eagerly: {reason}", JitWarning,
                          stacklevel=4)

    def _refuse_strict(self, reason: str) -> None:
        if self.strict:
            raise JitError(f"jit({self.__name__}, strict=True): {reason}")

    @property
    def renewed(self) -> int:
        """How many times a replay found one of its buffers still held elsewhere (a loss,
        gradient or output the caller kept; an array an op's own context saved) and wrote a
        fresh array instead of overwriting it."""
        return sum(e.tape.renewed for e in self._entries.values() if e.tape is not None)

    def tape_text(self) -> str:
        """The last compiled tape, one numpy call per line (see the docs' jit page)."""
        if self._last is None:
            return "(nothing compiled yet: a step is replayed from its third call)"
        return self._last.source


class _Entry:
    """What is known about one call signature: a first recording, a tape, or a refusal."""

    def __init__(self) -> None:
        self.first: Recorder | None = None
        self.tape: Tape | None = None
        self.refused: str | None = None


def _signature(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a call must share with a recording to replay it: arrays' shapes and dtypes,
    Tensors' too and their requires_grad, other values themselves (objects by identity)."""
    key = []
    for v in values:
        kind = type(v)
        if kind is np.ndarray:
            key.append(("A", v.shape, v.dtype))
        elif isinstance(v, Tensor):
            key.append(("T", v.data.shape, v.data.dtype, v.requires_grad))
        elif isinstance(v, np.ndarray):
            key.append(("A", v.shape, v.dtype, kind))
        elif isinstance(v, (int, float, bool, str, bytes, np.generic)) or v is None:
            key.append(("V", kind, v))
        else:
            key.append(("O", id(v)))
    return tuple(key)


def _describe_key(key: Any) -> str:
    args, names, grad_mode = key
    parts = [f"{k[1]} {k[2].name}" if k[0] in "TA" else repr(k[2]) if k[0] == "V"
             else "object" for k in args]
    return f"arguments ({', '.join(parts)}), grad mode {grad_mode}"


