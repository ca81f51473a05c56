"""The backward pass: an iterative walk over the graph that pushes gradients from outputs
to leaves (`backward`, `grad`), and the graph utilities it rests on (`toposort`,
`unbroadcast`, `replay`).

Design notes
------------
* `backward` walks the graph with a priority queue keyed by each op's creation order (as
  PyTorch's engine does with its sequence numbers): an op is created after its inputs, so
  taking the most recent first reaches a tensor only after every op that used it, with no
  separate topological sort and no recursion (chains of 100,000 ops work). Gradients travel
  through a local dict. Only leaves and tensors that called `retain_grad()` receive `.grad`.
* Each op's backward is written once, in a vocabulary that numpy arrays and Tensors share
  (see `tinygrad_nd.autograd.Function`). A first-order pass (the usual case) records
  nothing, so it runs every backward on plain numpy arrays; under `create_graph=True` the
  same backwards run on Tensors and are recorded, giving grad-of-grad. Gradients become
  Tensors only where a user sees them (`.grad`, hooks, `grad`'s results).
* After a backward without `retain_graph` each op's saved buffers are freed and its
  intermediate inputs are kept as descriptions (op, shape, dtype: value-less placeholders
  once someone looks), so a kept `loss` pins no activations; accumulation into a leaf's
  `.grad` is one locked step, so threads sharing a parameter lose no update.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import autograd as _autograd
from . import tensor as _tensor_module
from .autograd import (
    Context,
    _engine_lock,
    _freed_message,
    _grad_enabled,
    _observers,
    _set_grad_mode,
)
from .fpstate import Ignoring

if TYPE_CHECKING:
    from .tensor import Tensor

# inf/nan gradients (from an inf loss, 0 * inf where a branch was masked ...) come out as in
# PyTorch, silently: numpy's floating-point warnings would only repeat them.
_IGNORE_FP_EVENTS = Ignoring(over="ignore", invalid="ignore", divide="ignore")

G = TypeVar("G")  # a gradient: a Tensor in recorded passes, a numpy array in first-order ones

def toposort(roots: Iterable[Tensor]) -> list[Tensor]:
    """Tensors reachable from `roots` that require grad, inputs before the tensors using them.

    Iterative depth-first post-order (a stack of input iterators, no recursion); deterministic,
    inputs are visited in argument order.

    Parameters
    ----------
    roots : iterable of Tensors
        The graph's outputs.
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
    buffers again, so the graph can be differentiated after `backward()` freed it.

    Parameters
    ----------
    roots : sequence of Tensors
        The graph's outputs.
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
    """Sum `g` (a Tensor or an array) over the axes that broadcasting added, so it has the
    input's `shape`.

    Parameters
    ----------
    g : Tensor or array
        A gradient with the (broadcast) shape of an op's output.
    shape : tuple of int
        The shape of the op's input.
    op_name : str
        The op, named in the error when the shapes are not broadcast-compatible.
    """
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
    """Backpropagate `root_grads` from `roots`.

    With `inputs` given, return their gradients (as `grad` does) and leave `.grad`
    untouched; otherwise accumulate into the `.grad` of leaves and retaining tensors.
    """
    # Gradients travel as Tensors when the pass is recorded, as ndarrays otherwise (never
    # numpy scalars: _backprop_op makes sure); `to_user` turns one into what a user sees (a
    # Tensor), `from_user` back.
    to_user: Callable[[Any], Tensor] = _same if create_graph else _as_tensor
    from_user: Callable[[Tensor], Any] = _same if create_graph else _data
    # tensor -> its gradient so far (keyed by identity hash), or None for a tensor queued
    # without one (an op returned no gradient for it: its context is still released)
    grads: dict[Tensor, Any] = {}
    queue: list[tuple[int, int, Tensor]] = []  # a heap: see _queue
    stored_arrays: set[int] = set()
    for r, g in zip(roots, root_grads):
        stored_arrays.add(id(g.data))
        g = from_user(g)
        if r in grads:
            grads[r] = grads[r] + g
        else:
            grads[r] = g
            _queue(queue, r)
    capture = {t: i for i, t in enumerate(inputs)} if inputs is not None else None
    captured: list[Tensor | None] = [None] * len(inputs or ())
    prev_mode = _grad_enabled()
    _set_grad_mode(create_graph)
    quiet = _IGNORE_FP_EVENTS.enter()
    try:
        while queue:
            node = _pop(queue)[2]
            g = grads.pop(node)
            ctx = node._ctx
            if g is None:  # reached by no gradient: only its graph is released
                _queue_without_gradient(ctx, grads, queue)
                # (a saved output re-attached for grad-of-grad is a second node of its op's
                # context, queued next to the first: the context goes with the last one)
                if not retain_graph and not (queue and queue[0][2]._ctx is ctx):
                    ctx.release()
                continue
            if node._hooks:
                g = from_user(_run_tensor_hooks(node, to_user(g)))
            if capture is not None:
                if node in capture:
                    captured[capture[node]] = to_user(g)
            elif ctx is None or node._retains_grad:
                _accumulate_grad(node, g, create_graph, stored_arrays)
            if ctx is None:
                continue
            if ctx._freed:
                raise RuntimeError(_freed_message(ctx.function.op_name))
            _backprop_op(ctx, g, grads, queue, create_graph)
            if not retain_graph and not (queue and queue[0][2]._ctx is ctx):
                ctx.release()
    finally:
        _IGNORE_FP_EVENTS.exit(quiet)
        _set_grad_mode(prev_mode)
    return captured if capture is not None else None


_pop = heapq.heappop
_push = heapq.heappush
_LEAF_ORDER = 1  # after every op (their orders are <= 0): leaves are finished last


def _queue(queue: list[tuple[int, int, Tensor]], t: Tensor) -> None:
    """Queue `t`: the most recently created op first, leaves last; ties (the nodes of one
    context) broken by id, so tensors themselves are never compared."""
    _push(queue, (*_order_key(t), t))


def _queue_without_gradient(ctx: Context, grads: dict[Tensor, Any],
                            queue: list[tuple[int, int, Tensor]]) -> None:
    """Queue the inputs of `ctx` that need a gradient, without one (see `_queue_unreached`)."""
    for inp, needed in zip(ctx.inputs, ctx.needs_input_grad):
        if needed:
            _queue_unreached(inp, grads, queue)


def _queue_unreached(t: Tensor, grads: dict[Tensor, Any],
                     queue: list[tuple[int, int, Tensor]]) -> None:
    """Queue intermediate `t`, if not queued yet, without a gradient: an op gave it none, but
    its context must still be released."""
    if t._ctx is not None and t not in grads:
        grads[t] = None
        _queue(queue, t)


def backward_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """The tensors of the graph below `roots` that require grad, in the order the backward
    pass finishes them (what a recording of the pass must follow to sum gradients in the
    same order).

    Parameters
    ----------
    roots : sequence of Tensors
        The graph's outputs.
    """
    return sorted(toposort(roots), key=_order_key)


def _order_key(t: Tensor) -> tuple[int, int]:
    return (_LEAF_ORDER if t._ctx is None else t._ctx.order, id(t))


def _same(g: Any) -> Any:
    return g


def _as_tensor(g: np.ndarray) -> Tensor:
    return _tensor_module.Tensor._make(g, None)


def _data(t: Tensor) -> np.ndarray:
    return t.data


def _backprop_op(ctx: Context, g: Any, grads: dict[Tensor, Any],
                 queue: list[tuple[int, int, Tensor]], create_graph: bool) -> None:
    """Call one op's backward, add each input's reduced gradient into `grads`, and queue
    the inputs reached for the first time."""
    function = ctx.function
    if create_graph or function.backward_arrays is None:
        input_grads = function.backward(ctx, g)  # on Tensors or on arrays, as g is
    else:  # an op's declared first-order algorithm
        input_grads = function.backward_arrays(ctx, g)
    if len(input_grads) != len(ctx.inputs):
        raise RuntimeError(f"{function.op_name}.backward returned {len(input_grads)} "
                           f"gradients for {len(ctx.inputs)} inputs")
    if _autograd._open_observers:
        _notify_backward_observers(ctx, g, input_grads, create_graph)
    for inp, gi, needed in zip(ctx.inputs, input_grads, ctx.needs_input_grad):
        if not needed:
            continue
        if gi is None:
            _queue_unreached(inp, grads, queue)
            continue
        target = inp.data
        if gi.shape != target.shape:
            gi = unbroadcast(gi, target.shape, function.op_name)
        if gi.dtype is not target.dtype and gi.dtype != target.dtype:
            gi = gi.astype(target.dtype)
        previous = grads.get(inp, _NOT_QUEUED)
        if previous is _NOT_QUEUED:  # (_queue and _order_key inlined: the hot path)
            _push(queue, (_LEAF_ORDER if inp._ctx is None else inp._ctx.order, id(inp), inp))
        elif previous is not None:
            gi = previous + gi  # (out of place: the same array may be another input's too)
        if not create_graph and type(gi) is not np.ndarray:  # numpy's 0-d results are scalars
            gi = np.asarray(gi)
        grads[inp] = gi


_NOT_QUEUED = object()  # (None means queued without a gradient)


def _notify_backward_observers(ctx: Context, g: Any, input_grads: Sequence[Any],
                               create_graph: bool) -> None:
    if create_graph:
        g = g.data
        input_grads = [None if gi is None else gi.data for gi in input_grads]
    arrays = tuple(None if gi is None else np.asarray(gi) for gi in input_grads)
    for observer in _observers.get()[1]:
        observer(ctx, g, arrays)


def _run_tensor_hooks(node: Tensor, g: Tensor) -> Tensor:
    """Run `node`'s hooks in registration order; each may replace the gradient."""
    for hook in tuple(node._hooks.values()):
        replaced = hook(g)
        if replaced is not None:
            g = _checked_hook_result(replaced, node)
    return g


def _accumulate_grad(node: Tensor, g: Any, create_graph: bool, stored: set[int]) -> None:
    """Add `g` (a Tensor when `create_graph`, else an array) into `node.grad`."""
    if create_graph:
        with _engine_lock:
            node.grad = g if node.grad is None else node.grad + g
        return
    # Two leaves may receive the very same array (e.g. both inputs of an add); copy so an
    # in-place change of one `.grad` can never leak into another.
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
    """Accumulate d(tensor)/d(leaf) into every leaf's `.grad`; see `Tensor.backward`.

    Parameters
    ----------
    tensor : Tensor
        The root of the graph.
    gradient : Tensor or array, optional
        d(something)/d(tensor); required unless `tensor` has one element.
    retain_graph : bool, optional
        Keep saved buffers so the graph can be differentiated again (defaults to
        `create_graph`).
    create_graph : bool
        Record the backward pass itself, for higher-order derivatives.
    """
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
    """Return d(outputs)/d(inputs) without touching any `.grad` (like `torch.autograd.grad`).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
        What to differentiate.
    inputs : Tensor or sequence of Tensors
        With respect to what; each must require grad. One gradient is returned per input.
    grad_outputs : Tensor, array or sequence, optional
        d(something)/d(output) for each output (the vector of the vector-Jacobian
        product); required for outputs with more than one element.
    retain_graph : bool, optional
        Keep saved buffers so the graph can be differentiated again (defaults to
        `create_graph`).
    create_graph : bool
        Record the backward pass itself, for higher-order derivatives.
    allow_unused : bool
        Return None for an input the outputs do not depend on, instead of raising.

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
