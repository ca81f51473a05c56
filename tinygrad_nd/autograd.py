"""The autograd engine: grad mode, ``Context``/``Function``, and the iterative backward pass.

Design notes
------------
* The graph is a DAG of tensors; a non-leaf tensor points to the ``Context`` of the op that
  made it and the context points to the op's input tensors, never back to its output, so a
  graph holds no reference cycles and is freed by reference counting alone.
* ``backward`` walks a post-order of the graph built with an explicit stack (no recursion,
  so chains of 100,000 ops work) and pushes gradients through a local dict. Only leaves and
  tensors that called ``retain_grad()`` receive ``.grad``.
* Each op's backward is written once, in a vocabulary that numpy arrays and Tensors share.
  A first-order pass (the usual case) records nothing, so it runs every backward on plain
  numpy arrays; under ``create_graph=True`` the same backwards run on Tensors and are
  recorded, giving grad-of-grad. Gradients become Tensors only where a user sees them
  (``.grad``, hooks, :func:`grad`'s results).
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from . import tensor as _tensor_module

if TYPE_CHECKING:
    from .tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])
G = TypeVar("G")  # a gradient: a Tensor in recorded passes, a numpy array in first-order ones

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
    """Re-enable graph recording inside a ``no_grad`` region (context manager or decorator)."""

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


class observe:
    """Context manager that runs callbacks on every op of this thread while it is open.

    ``forward(function, inputs, output_array)`` runs after each op's forward and
    ``backward(ctx, grad_output, grad_inputs)`` after each op's backward, on numpy arrays
    (``None`` for an input without gradient). Other threads are not observed, so a diagnostic
    that raises in one thread never aborts another thread's work.

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
class Context:
    """Per-call storage connecting an op's forward to its backward.

    Forward stores what backward needs with :meth:`save_for_backward` (numpy arrays) or as
    plain attributes (axes, shapes, masks). Backward reads :attr:`saved_tensors`, which returns
    the *input tensors themselves* for saved inputs (so the backward can be differentiated
    again), a tensor re-attached to this op for the saved output, and constants otherwise.
    Only save inputs, the output, or arrays whose derivative does not matter (masks, indices).
    """

    # The engine's own fields are slots; what an op's forward attaches (axes, masks ...) lives
    # in ``__dict__``, so releasing the buffers is one ``clear()``.
    __slots__ = ("function", "inputs", "recording", "needs_input_grad", "params", "module",
                 "grad_norm", "_saved", "_freed", "_input_versions", "_output_data",
                 "_output_version", "__dict__")

    def __init__(self, function: type[Function], inputs: tuple[Tensor, ...],
                 recording: bool = False) -> None:
        self.function = function
        self.inputs = inputs
        # Whether this call is recorded (a forward may then keep extra buffers); decided once,
        # by Function.apply.
        self.recording = recording
        self._saved: tuple[np.ndarray, ...] | None = None
        self._freed = False

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep ``arrays`` (inputs, the output, or constants) for the backward pass."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values, checked against in-place modification, in the form of the pass
        that asks: numpy arrays in a first-order backward (nothing is recorded), Tensors in a
        recorded one (``create_graph=True``), so one backward body serves both.

        In a recorded pass a saved input is the input tensor itself and the saved output is
        re-attached to this op, so the backward can be differentiated again.
        """
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
                out.append(make(arr, self if arr is self._output_data else None))
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
        """Drop saved buffers; keep only the graph structure (op, inputs, params, labels)."""
        self.__dict__.clear()
        self._saved = self._output_data = None
        self._freed = True


def _freed_message(op_name: str) -> str:
    return (f"{op_name}: trying to backward through the graph a second time, but its saved "
            "buffers were freed by the first backward(). Pass retain_graph=True to the first "
            "backward() if you need to backward twice.")


def _version_message(op_name: str, what: str, shape: tuple[int, ...]) -> str:
    return (f"{op_name}: the {what} (shape {shape}) saved for backward was modified in place "
            "after it was saved; its gradient would be wrong. Use an out-of-place operation.")


class Function:
    """Base class of registered ops: ``forward`` on arrays, ``backward`` written once.

    Subclasses define two static methods:

    ``forward(ctx, *arrays, **params) -> np.ndarray``
        computes the output from numpy arrays and saves what backward needs on ``ctx``;
    ``backward(ctx, g) -> tuple[gradient | None, ...]``
        returns one vector-Jacobian product per tensor input (``None`` for no gradient),
        each of the *output's* broadcast shape; the engine reduces and accumulates it. It
        must not change ``g`` in place (``g`` may also be a tensor's ``.grad``).

    ``backward`` is the one place an op's derivative is written, and it runs in two passes:
    on numpy arrays in a first-order ``backward()`` (``g`` and ``ctx.saved_tensors`` are
    arrays; fast, nothing recorded), and on Tensors under ``create_graph=True`` (recorded, so
    grad-of-grad works). Write it in the vocabulary both understand: operators, ``.T``,
    ``.reshape``, ``.sum(axis=, keepdims=)``, ``.astype``, numpy functions (``np.exp``,
    ``np.where``, ``np.tanh`` ..., which dispatch to registered ops on Tensors, see
    :mod:`tinygrad_nd.array_protocol`), another op's ``Op.apply(...)`` (which accepts arrays
    too) and the helpers of ``tinygrad_nd.ops._util``.

    An op whose first-order gradient is a genuinely different algorithm (conv2d reusing its
    forward's im2col, cross-entropy its saved probabilities) may also declare
    ``backward_arrays(ctx, g)``, used by first-order passes instead; its docstring says why,
    and the generic tests compare it with ``backward``.
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
        if inputs and isinstance(inputs[0], (np.ndarray, np.generic)):
            out = cls.forward(Context(cls, ()), *[np.asarray(a) for a in inputs], **params)
            return out if type(out) is np.ndarray else np.asarray(out)
        # This is the hottest function of the library (every op of every step passes here),
        # hence one plain loop over the inputs (a comprehension costs a frame) and no helpers.
        # hence one plain loop over the inputs (a comprehension costs a frame) and no helpers.
        arrays, needs_grad, versions = [], [], []
        for t in inputs:
            arrays.append(t.data)
            needs_grad.append(t.requires_grad)
            versions.append(t._version[0])
        recorded = _grad_enabled() and True in needs_grad
        ctx = Context(cls, inputs, recorded)
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


# --------------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------------
def toposort(roots: Iterable[Tensor]) -> list[Tensor]:
    """Tensors reachable from ``roots`` that require grad, inputs before the tensors using them.

    Iterative depth-first post-order (a stack of input iterators, no recursion); deterministic,
    inputs are visited in argument order.
    """
    order: list[Tensor] = []
    # Tensors hash by identity (their == is elementwise, but a set never calls it for
    # distinct live objects, whose identity hashes differ), so they are their own keys.
    seen: set[Tensor] = set()
    finish = order.append
    for root in roots:
        if root in seen or not root.requires_grad:
            continue
        seen.add(root)
        stack = [(root, iter(root._ctx.inputs if root._ctx is not None else ()))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p.requires_grad and p not in seen:
                    seen.add(p)
                    if p._ctx is None:
                        finish(p)  # a leaf is finished as soon as it is reached
                    else:
                        stack.append((p, iter(p._ctx.inputs)))
                        break
            else:  # every input is finished
                stack.pop()
                finish(node)
    return order


def replay(roots: Sequence[Tensor]) -> dict[int, Tensor]:
    """Re-run the forward of every op of a (possibly freed) graph, from the same leaves.

    Returns a map from each original node's id to its fresh twin, whose context holds saved
    buffers again, so the graph can be differentiated after ``backward()`` freed it.
    """
    twins: dict[int, Tensor] = {}
    for node in toposort(roots):
        ctx = node._ctx
        if ctx is None:
            continue
        inputs = [twins.get(id(t), t) for t in ctx.inputs]
        twins[id(node)] = ctx.function.apply(*inputs, **ctx.params)
    return twins


def unbroadcast(g: G, shape: tuple[int, ...], op_name: str) -> G:
    """Sum ``g`` (a Tensor or an array) over the axes that broadcasting added, so it has the
    input's ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, g.shape[lead:])):
        raise RuntimeError(f"{op_name}.backward returned a gradient of shape {g.shape} for an "
                           f"input of shape {shape}; they are not broadcast-compatible")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes).reshape(shape)


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Backpropagate ``root_grads`` from ``roots``.

    With ``inputs`` given, return their gradients (as :func:`grad` does) and leave ``.grad``
    untouched; otherwise accumulate into the ``.grad`` of leaves and retaining tensors.
    """
    # Gradients travel as Tensors when the pass is recorded, as ndarrays otherwise (never
    # numpy scalars: _backprop_op makes sure); ``to_user`` turns one into what a user sees (a
    # Tensor), ``from_user`` back.
    to_user: Callable[[Any], Tensor] = _same if create_graph else _as_tensor
    from_user: Callable[[Tensor], Any] = _same if create_graph else _data
    grads: dict[Tensor, Any] = {}  # keyed by the tensors themselves (identity hash)
    stored_arrays: set[int] = set()
    for r, g in zip(roots, root_grads):
        stored_arrays.add(id(g.data))
        g = from_user(g)
        grads[r] = g if r not in grads else grads[r] + g
    capture = {t: i for i, t in enumerate(inputs)} if inputs is not None else None
    captured: list[Tensor | None] = [None] * len(inputs or ())
    order = toposort(roots)
    placeholders: dict[Tensor, Tensor] = {}
    prev_mode = _grad_enabled()
    _set_grad_mode(create_graph)
    try:
        for node in reversed(order):
            g = grads.pop(node, None)
            if g is None:
                if not retain_graph and node._ctx is not None:  # reached by no gradient
                    _release(node._ctx, placeholders)
                continue
            if node._hooks:
                g = from_user(_run_tensor_hooks(node, to_user(g)))
            ctx = node._ctx
            if capture is not None:
                if node in capture:
                    captured[capture[node]] = to_user(g)
            elif ctx is None or node._retains_grad:
                _accumulate_grad(node, g, create_graph, stored_arrays)
            if ctx is None:
                continue
            if ctx._freed:
                raise RuntimeError(_freed_message(ctx.function.op_name))
            _backprop_op(ctx, g, grads, create_graph)
            if not retain_graph:
                _release(ctx, placeholders)
    finally:
        _set_grad_mode(prev_mode)
    return captured if capture is not None else None


def _release(ctx: Context, placeholders: dict[Tensor, Tensor]) -> None:
    """Free an op's saved buffers, and swap its intermediate inputs for placeholders that keep
    their place in the graph (op, shape, dtype, name; drawing and replay still work) but no
    values, so a ``loss`` kept after ``backward()`` does not pin that step's activations.
    Leaves (parameters, data) are kept as they are."""
    ctx.release()
    inputs = ctx.inputs
    for t in inputs:
        if t._ctx is not None:
            break
    else:
        return
    swapped = []
    for t in inputs:
        if t._ctx is not None:
            stand_in = placeholders.get(t)
            if stand_in is None:
                stand_in = placeholders[t] = _placeholder(t)
            t = stand_in
        swapped.append(t)
    ctx.inputs = tuple(swapped)


_ONE_VALUE: dict[np.dtype, np.ndarray] = {}  # a read-only element per dtype, for placeholders


def _placeholder(t: Tensor) -> Tensor:
    """A tensor of ``t``'s shape, dtype, op and name whose data is one repeated element (a
    zero-strided view: no memory, and read-only)."""
    dtype = t.data.dtype
    one = _ONE_VALUE.get(dtype)
    if one is None:
        one = _ONE_VALUE[dtype] = np.zeros(1, dtype)
        one.flags.writeable = False
    data = np.ndarray(t.data.shape, dtype, buffer=one, strides=(0,) * t.data.ndim)
    stand_in = _tensor_module.Tensor._make(data, t._ctx)
    stand_in.name = t.name
    return stand_in


def _same(g: Any) -> Any:
    return g


def _as_tensor(g: np.ndarray) -> Tensor:
    return _tensor_module.Tensor._make(g, None)


def _data(t: Tensor) -> np.ndarray:
    return t.data


def _backprop_op(ctx: Context, g: Any, grads: dict[Tensor, Any], create_graph: bool) -> None:
    """Call one op's backward and add each input's reduced gradient into ``grads``."""
    function = ctx.function
    if create_graph or function.backward_arrays is None:
        input_grads = function.backward(ctx, g)  # on Tensors or on arrays, as g is
    else:  # an op's declared first-order algorithm
        input_grads = function.backward_arrays(ctx, g)
    if len(input_grads) != len(ctx.inputs):
        raise RuntimeError(f"{function.op_name}.backward returned {len(input_grads)} "
                           f"gradients for {len(ctx.inputs)} inputs")
    if _open_observers:
        _notify_backward_observers(ctx, g, input_grads, create_graph)
    for inp, gi, needed in zip(ctx.inputs, input_grads, ctx.needs_input_grad):
        if gi is None or not needed:
            continue
        target = inp.data
        if gi.shape != target.shape:
            gi = unbroadcast(gi, target.shape, function.op_name)
        if gi.dtype is not target.dtype and gi.dtype != target.dtype:
            gi = gi.astype(target.dtype)
        previous = grads.get(inp)
        if previous is not None:
            gi = previous + gi  # (out of place: the same array may be another input's too)
        if not create_graph and type(gi) is not np.ndarray:  # numpy's 0-d results are scalars
            gi = np.asarray(gi)
        grads[inp] = gi


def _notify_backward_observers(ctx: Context, g: Any, input_grads: Sequence[Any],
                               create_graph: bool) -> None:
    if create_graph:
        g = g.data
        input_grads = [None if gi is None else gi.data for gi in input_grads]
    arrays = tuple(None if gi is None else np.asarray(gi) for gi in input_grads)
    for observer in _observers.get()[1]:
        observer(ctx, g, arrays)


def _run_tensor_hooks(node: Tensor, g: Tensor) -> Tensor:
    """Run ``node``'s hooks in registration order; each may replace the gradient."""
    for hook in tuple(node._hooks.values()):
        replaced = hook(g)
        if replaced is not None:
            g = _checked_hook_result(replaced, node)
    return g


def _accumulate_grad(node: Tensor, g: Any, create_graph: bool, stored: set[int]) -> None:
    """Add ``g`` (a Tensor when ``create_graph``, else an array) into ``node.grad``."""
    if create_graph:
        with _engine_lock:
            node.grad = g if node.grad is None else node.grad + g
        return
    # Two leaves may receive the very same array (e.g. both inputs of an add); copy so an
    # in-place change of one ``.grad`` can never leak into another.
    data = g
    owner = id(data if data.base is None else data.base)
    if owner in stored or not data.flags.writeable:  # shared, or a broadcast view
        data = data.copy()
    else:
        stored.add(owner)
    with _engine_lock:  # read, add and store as one step: another thread may do the same
        if node.grad is not None:
            data = node.grad.data + data
        node.grad = _tensor_module.Tensor._make(data, None)


def _checked_hook_result(result: Any, node: Tensor) -> Tensor:
    Tensor = _tensor_module.Tensor
    if not isinstance(result, Tensor):
        result = Tensor(result, dtype=node.dtype)
    if result.shape != node.shape:
        raise RuntimeError(f"hook on tensor of shape {node.shape} returned a gradient of shape "
                           f"{result.shape}")
    return result


def _seed_gradients(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None,
                    caller: str) -> list[Tensor]:
    Tensor = _tensor_module.Tensor
    seeds = []
    for i, out in enumerate(outputs):
        given = None if grad_outputs is None else grad_outputs[i]
        if not out.requires_grad:
            raise RuntimeError(f"{caller}: output {i} (shape {out.shape}) does not require grad "
                               "and has no graph; did you build it under no_grad() or from "
                               "tensors without requires_grad=True?")
        if given is None:
            if out.size != 1:
                raise RuntimeError(f"{caller}: grad can be implicitly created only for scalar "
                                   f"outputs, but output {i} has shape {out.shape}; pass "
                                   "gradient= (a tensor of that shape)")
            # (np.array + reshape: a third of np.ones' cost, which matters for tiny graphs)
            given = Tensor._make(np.array(1, dtype=out.dtype).reshape(out.shape), None)
        elif not isinstance(given, Tensor):
            given = Tensor(given, dtype=out.dtype)
        if given.shape != out.shape:
            raise RuntimeError(f"{caller}: gradient of shape {given.shape} does not match the "
                               f"output shape {out.shape}")
        seeds.append(given)
    return seeds


def backward(tensor: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad``; see :meth:`Tensor.backward`."""
    seeds = _seed_gradients([tensor], None if gradient is None else [gradient], "backward")
    keep = create_graph if retain_graph is None else retain_graph
    run_backward([tensor], seeds, keep, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (like ``torch.autograd.grad``).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([3.0], requires_grad=True)
    >>> (dx,) = tg.grad((x ** 3).sum(), x, create_graph=True)
    >>> (ddx,) = tg.grad(dx.sum(), x)
    >>> float(dx.item()), float(ddx.item())
    (27.0, 18.0)
    """
    Tensor = _tensor_module.Tensor
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    single_output = isinstance(outputs, Tensor)
    if isinstance(grad_outputs, Tensor) or (grad_outputs is not None and single_output):
        grad_outputs = [grad_outputs]
    seeds = _seed_gradients(outs, grad_outputs, "grad")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    keep = create_graph if retain_graph is None else retain_graph
    result = run_backward(outs, seeds, keep, create_graph, inputs=ins) or []
    if not allow_unused:
        for i, r in enumerate(result):
            if r is None:
                raise RuntimeError(f"grad: input {i} (shape {ins[i].shape}) was not used to "
                                   "compute the outputs; pass allow_unused=True to get None")
    return tuple(result)
