"""Recording the graph: grad mode, observers, `Context` and `Function` (the forward side
of autograd; the backward pass is `tinygrad_nd.engine`).

Design notes
------------
* The graph is a DAG of tensors; a non-leaf tensor points to the `Context` of the op that
  made it and the context points to the op's input tensors, never back to its output, so a
  graph holds no reference cycles and is freed by reference counting alone.
* Grad mode and observers are per thread (context variables), as in PyTorch.
* Each op's backward is written once, in a vocabulary that numpy arrays and Tensors share
  (see `Function`).
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from . import tensor as _tensor_module

if TYPE_CHECKING:
    from .tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------------------------
# grad mode: per thread, as in PyTorch (an evaluation thread under no_grad() must not
# switch off recording for a training thread)
# --------------------------------------------------------------------------------------------
# A context variable is per thread (and per asyncio task), and reads cost a third of a
# threading.local attribute's; the engine reads it once per op.
_grad_mode: contextvars.ContextVar[bool] = contextvars.ContextVar("tinygrad_nd_grad_mode",
                                                                  default=True)
_grad_enabled = _grad_mode.get
_set_grad_mode = _grad_mode.set


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for differentiation (in this thread)."""
    return _grad_enabled()


class set_grad_enabled:
    """Context manager (and function) that turns graph recording on or off in this thread.

    Parameters
    ----------
    mode : bool
        True records operations, False does not (as `no_grad`).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> with tg.set_grad_enabled(False):
    ...     tg.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _grad_enabled()
        _set_grad_mode(bool(mode))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set_grad_mode(self.prev)


class _GradMode:
    mode: ClassVar[bool]

    def __enter__(self) -> None:
        self.prev = _grad_enabled()
        _set_grad_mode(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_grad_mode(self.prev)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disable graph recording, as a context manager or a decorator.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> w = tg.ones(3, requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a `no_grad` region (context manager or decorator)."""

    mode = True


# --------------------------------------------------------------------------------------------
# observers: per thread, like grad mode (a diagnostic that raises in one thread must not abort
# another thread's backward)
# --------------------------------------------------------------------------------------------
ForwardObserver = Callable[[Any, tuple[Any, ...], np.ndarray], None]
BackwardObserver = Callable[["Context", np.ndarray, tuple[np.ndarray | None, ...]], None]
_observers: contextvars.ContextVar[tuple[tuple[ForwardObserver, ...],
                                         tuple[BackwardObserver, ...]]] = contextvars.ContextVar(
    "tinygrad_nd_observers", default=((), ()))
# How many observe() blocks are open in any thread: while none is, the engine skips even the
# context-variable read.
_open_observers = 0
# Guards the few read-modify-writes shared between threads: that counter, and the
# accumulation of gradients into a leaf's .grad (two threads backpropagating into one shared
# parameter must both land).
_engine_lock = threading.RLock()
# Bumped (under the lock, so it only grows) by every in-place change of a tensor, after its
# version counter: a context whose saved buffers were saved at the current epoch needs no
# per-input version check (see `Context.saved_tensors`).
_inplace_epoch = [0]


def bump_inplace_epoch() -> None:
    """Record that some tensor was changed in place (after bumping its `_version`)."""
    with _engine_lock:
        _inplace_epoch[0] += 1


class observe:
    """Context manager that runs callbacks on every op of this thread while it is open.

    `forward(function, inputs, output_array)` runs after each op's forward and
    `backward(ctx, grad_output, grad_inputs)` after each op's backward, on numpy arrays
    (`None` for an input without gradient). Other threads are not observed, so a diagnostic
    that raises in one thread never aborts another thread's work.

    Parameters
    ----------
    forward : callable, optional
        `forward(function, inputs, output_array)`, called after each op's forward.
    backward : callable, optional
        `backward(ctx, grad_output, grad_inputs)`, called after each op's backward.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.autograd import observe
    >>> seen = []
    >>> with observe(forward=lambda fn, inputs, out: seen.append(fn.op_name)):
    ...     _ = tg.ones(2).exp()
    >>> seen
    ['exp']
    """

    def __init__(self, forward: ForwardObserver | None = None,
                 backward: BackwardObserver | None = None) -> None:
        self.forward, self.backward = forward, backward

    def __enter__(self) -> observe:
        global _open_observers
        forward, backward = _observers.get()
        _observers.set((forward + ((self.forward,) if self.forward else ()),
                        backward + ((self.backward,) if self.backward else ())))
        with _engine_lock:
            _open_observers += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _open_observers
        # Remove exactly this block's callbacks, whatever was opened or closed in between.
        forward, backward = _observers.get()
        _observers.set((_without(forward, self.forward), _without(backward, self.backward)))
        with _engine_lock:
            _open_observers -= 1


def _without(callbacks: tuple[Any, ...], callback: Any) -> tuple[Any, ...]:
    if callback is None or callback not in callbacks:
        return callbacks
    i = len(callbacks) - 1 - callbacks[::-1].index(callback)
    return callbacks[:i] + callbacks[i + 1:]


# --------------------------------------------------------------------------------------------
# Context and Function
# --------------------------------------------------------------------------------------------
_next_order = itertools.count(0, -1).__next__  # (atomic under the GIL: thread-safe)


class Context:
    """Per-call storage connecting an op's forward to its backward.

    Forward stores what backward needs with `save_for_backward` (numpy arrays) or as
    plain attributes (axes, shapes, masks). Backward reads `saved_tensors`, which returns
    the *input tensors themselves* for saved inputs (so the backward can be differentiated
    again), a tensor re-attached to this op for the saved output, and constants otherwise.
    Only save inputs, the output, or arrays whose derivative does not matter (masks, indices).

    Parameters
    ----------
    function : type of Function
        The op's class.
    inputs : tuple of Tensors
        The op's tensor inputs.
    recording : bool
        Whether this call is recorded in a graph (its forward may then keep extra buffers).
    epoch : int
        The in-place epoch when the inputs were read (`Function.apply`); -1 makes
        `saved_tensors` always check the inputs' versions.
    """

    # The engine's own fields are slots; what an op's forward attaches (axes, masks ...) lives
    # in `__dict__`, so releasing the buffers is one `clear()`.
    __slots__ = ("function", "inputs", "recording", "order", "needs_input_grad", "params", "_saved",
                 "_freed", "_input_versions", "_output_data", "_output_version", "_saved_epoch",
                 "_placeholder", "__dict__", "__weakref__")

    def __init__(self, function: type[Function], inputs: tuple[Tensor, ...],
                 recording: bool = False, epoch: int = -1) -> None:
        self.function = function
        self.inputs = inputs
        # Whether this call is recorded (a forward may then keep extra buffers); decided once,
        # by Function.apply.
        self.recording = recording
        # Creation order, counting down: an op is created after its inputs' ops, so the
        # backward pass finishes contexts from the smallest order up (see tinygrad_nd.engine).
        self.order = _next_order()
        self._saved: tuple[np.ndarray, ...] | None = None
        self._freed = False
        # The in-place epoch when the inputs were read (see saved_tensors); -1: always check.
        self._saved_epoch = epoch

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep `arrays` (inputs, the output, or constants) for the backward pass."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values, checked against in-place modification, in the form of the pass
        that asks: numpy arrays in a first-order backward (nothing is recorded), Tensors in a
        recorded one (`create_graph=True`), so one backward body serves both.

        In a recorded pass a saved input is the input tensor itself and the saved output is
        re-attached to this op, so the backward can be differentiated again.
        """
        saved = self._saved
        # (the checks are skipped when nothing anywhere changed in place since the save)
        if not saved or self._saved_epoch != _inplace_epoch[0]:
            saved = self._checked_saved()
        if not _grad_enabled():
            return saved
        make = _tensor_module.Tensor._make
        out = []
        for arr in saved:
            for t in self.inputs:
                if t.data is arr:
                    out.append(t)
                    break
            else:
                # Re-attach the output to this op so grad-of-grad sees its dependence on the
                # inputs; a fresh Tensor avoids a context -> output reference cycle.
                if arr is self._output_data:
                    out.append(make(arr, self))
                else:
                    out.append(make(arr, None))
        return tuple(out)

    def _checked_saved(self) -> tuple[np.ndarray, ...]:
        """The saved arrays, after checking that none was freed or modified in place."""
        if self._freed:
            raise RuntimeError(_freed_message(self.function.op_name))
        saved = self._saved
        if not saved:
            return ()
        for i, t in enumerate(self.inputs):
            if t._version[0] != self._input_versions[i] and any(t.data is a for a in saved):
                raise RuntimeError(_version_message(self.function.op_name, f"input {i}", t.shape))
        counter, version = self._output_version
        if counter[0] != version and any(self._output_data is a for a in saved):
            raise RuntimeError(_version_message(self.function.op_name, "output",
                                                self._output_data.shape))
        return saved

    @property
    def op_name(self) -> str:
        """Name of the op this context belongs to."""
        return self.function.op_name

    def release(self) -> None:
        """Drop the saved buffers and the values of intermediate inputs; keep the graph's
        structure (op, params, each input's op, shape, dtype and name).

        A `loss` kept after `backward()` then pins no activations; leaves (parameters, data)
        are the user's and stay. Each intermediate input is kept as a description
        `(context, shape, dtype, name)`, made into a value-less placeholder tensor only when
        someone looks (see `ReleasedInputs`).
        """
        self.__dict__.clear()
        self._saved = self._output_data = None
        self._freed = True
        for t in self.inputs:
            if t._ctx is not None:  # an intermediate input: keep only descriptions
                entries = []
                for t in self.inputs:
                    data = t.data
                    entries.append(t if t._ctx is None
                                   else (t._ctx, data.shape, data.dtype, t.name))
                self.inputs = ReleasedInputs(entries)
                return

class ReleasedInputs(Sequence):
    """The inputs of a released context: leaves as they were, each intermediate input as a
    description (its op's context, shape, dtype, name) that becomes a value-less placeholder
    tensor on first look (drawing, replay, a second backward). Building the placeholders only
    then keeps them off the cost of every training step."""

    __slots__ = ("_entries", "_tensors")

    def __init__(self, entries: list[Any]) -> None:
        self._entries = entries  # leaves, and descriptions (ctx, shape, dtype, name)
        self._tensors: tuple[Tensor, ...] | None = None

    def _resolved(self) -> tuple[Tensor, ...]:
        if self._tensors is None:
            self._tensors = tuple([_placeholder(*e) if type(e) is tuple else e
                                   for e in self._entries])
        return self._tensors

    def __getitem__(self, i: Any) -> Any:
        return self._resolved()[i]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(self._resolved())

    def __repr__(self) -> str:
        return f"ReleasedInputs({list(self._resolved())!r})"


# Read-only zero-strided arrays by (shape, dtype): every placeholder of that shape shares one
# (they hold no values, so nothing can tell them apart); bounded, as a training loop uses a
# few shapes.
_NO_VALUES: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}


def _no_values(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    key = (shape, dtype)
    data = _NO_VALUES.get(key)
    if data is None:
        one = np.zeros(1, dtype)
        one.flags.writeable = False
        data = np.ndarray(shape, dtype, buffer=one, strides=(0,) * len(shape))
        if len(_NO_VALUES) < 4096:
            _NO_VALUES[key] = data
    return data


def _placeholder(ctx: Context, shape: tuple[int, ...], dtype: np.dtype,
                 name: str | None) -> Tensor:
    """The tensor a description stands for: its op, shape, dtype and name, and one repeated
    element as data (a zero-strided read-only view: no memory). One per context while it is
    alive (the context holds it weakly: no cycle), so a tensor that fed several ops stays one
    node."""
    ref = getattr(ctx, "_placeholder", None)  # (a slot, set only here)
    made = ref() if ref is not None else None
    if made is None:
        made = _tensor_module.Tensor._make(_no_values(shape, dtype), ctx)
        made.name = name
        ctx._placeholder = weakref.ref(made)
    return made


def _freed_message(op_name: str) -> str:
    return (f"{op_name}: trying to backward through the graph a second time, but its saved "
            "buffers were freed by the first backward(). Pass retain_graph=True to the first "
            "backward() if you need to backward twice.")


def _version_message(op_name: str, what: str, shape: tuple[int, ...]) -> str:
    return (f"{op_name}: the {what} (shape {shape}) saved for backward was modified in place "
            "after it was saved; its gradient would be wrong. Use an out-of-place operation.")


_ARRAY_TYPES = (np.ndarray, np.generic)  # what an op applied to arrays receives


class Function:
    """Base class of registered ops: `forward` on arrays, `backward` written once.

    Subclasses define two static methods:

    `forward(ctx, *arrays, **params) -> np.ndarray`
        computes the output from numpy arrays and saves what backward needs on `ctx`;
    `backward(ctx, g) -> tuple[gradient | None, ...]`
        returns one vector-Jacobian product per tensor input (`None` for no gradient),
        each of the *output's* broadcast shape; the engine reduces and accumulates it. It
        must not change `g` in place (`g` may also be a tensor's `.grad`).

    `backward` is the one place an op's derivative is written, and it runs in two passes:
    on numpy arrays in a first-order `backward()` (`g` and `ctx.saved_tensors` are
    arrays; fast, nothing recorded), and on Tensors under `create_graph=True` (recorded, so
    grad-of-grad works). Write it in the vocabulary both understand: operators, `.T`,
    `.reshape`, `.sum(axis=, keepdims=)`, `.astype`, numpy functions (`np.exp`,
    `np.where`, `np.tanh` ..., which dispatch to registered ops on Tensors, see
    `tinygrad_nd.array_protocol`), another op's `Op.apply(...)` (which accepts arrays
    too) and the helpers of `tinygrad_nd.ops._util`.

    An op whose first-order gradient is a genuinely different algorithm (conv2d reusing its
    forward's im2col, cross-entropy its saved probabilities) may also declare
    `backward_arrays(ctx, g)`, used by first-order passes instead; its docstring says why,
    and the generic tests compare it with `backward`.
    """

    op_name: ClassVar[str] = "function"
    forward: ClassVar[Callable[..., np.ndarray]]
    backward: ClassVar[Callable[..., tuple[Any, ...]]]
    backward_arrays: ClassVar[Callable[..., tuple[Any, ...]] | None] = None

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op on tensors, recording it in the graph when a gradient may be needed.

        On numpy arrays (how one op's backward uses another in a first-order pass) it runs
        the forward alone and returns an array.
        """
        # This is the hottest function of the library (every op of every step passes here),
        # hence one plain loop over the inputs (a comprehension costs a frame) and no helpers.
        epoch = _inplace_epoch[0]
        arrays, needs_grad, versions = [], [], []
        try:
            for t in inputs:
                arrays.append(t.data)
                needs_grad.append(t.requires_grad)
                versions.append(t._version[0])
        except AttributeError:  # (an ndarray's .data is a memoryview: it fails one line later)
            if not isinstance(inputs[0], _ARRAY_TYPES):
                raise
            out = cls.forward(Context(cls, ()), *[np.asarray(a) for a in inputs], **params)
            return out if type(out) is np.ndarray else np.asarray(out)
        recorded = _grad_enabled() and True in needs_grad
        ctx = Context(cls, inputs, recorded, epoch)
        try:
            out = cls.forward(ctx, *arrays, **params)
        except (ValueError, IndexError, TypeError) as e:
            raise _named_error(cls.op_name, e, inputs) from None
        if type(out) is not np.ndarray:  # numpy returns scalars for 0-d results
            scalar, out = out, np.asarray(out)
            if ctx._saved:
                ctx._saved = tuple([out if s is scalar else s for s in ctx._saved])
        if _open_observers:
            for observer in _observers.get()[0]:
                observer(cls, inputs, out)
        result = _tensor_module.Tensor._make(out, ctx if recorded else None)
        base = out.base
        if base is not None:  # a view (reshape, transpose ...): share the version counter
            for t in inputs:
                if base is t.data or base is t.data.base:
                    result._version = t._version
                    break
        if recorded:
            ctx.needs_input_grad = tuple(needs_grad)
            ctx.params = params  # kept after release(), so a freed graph can be replayed
            if ctx._saved:
                ctx._input_versions = versions
                ctx._output_data = out
                ctx._output_version = (result._version, result._version[0])
        return result


def _named_error(op_name: str, error: Exception, inputs: tuple[Tensor, ...]) -> Exception:
    """Make sure an error raised inside a forward names the op and the input shapes."""
    message = str(error)
    if not message.startswith(op_name + ":"):
        shapes = ", ".join(str(t.shape) for t in inputs)
        message = f"{op_name}: {message} (input shapes {shapes})"
    return type(error)(message)
