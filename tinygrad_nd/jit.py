"""A recorded training step replayed as a flat list of numpy calls: ``tg.jit``.

The idea is jax.jit's and torch.compile's, in numpy. An eager step spends most of its time
on bookkeeping, not arithmetic: each op builds a Tensor and a Context, each module call
checks its hooks, ``backward()`` sorts the graph and keeps gradients in a dict keyed by
tensors, the optimizer walks its parameter groups. None of that changes from one batch to
the next. So ``@tg.jit`` runs the step eagerly while *recording* it (every op's forward with
its inputs and parameters, the backward pass's plan, the optimizer calls, the side effects
of dropout and batch norm), and from then on *replays* the recording: a flat list of calls
of the very same numpy functions (each op's ``forward`` and ``backward``, the engine's
un-broadcasting and accumulation, the optimizer's step) on the new batch's arrays, with the
graph decisions (which op feeds which, which gradient goes where, in what order) already
taken. The same functions on the same arrays in the same order: the results are the eager
step's, bit for bit.

Safety comes first (a replay is exact or it does not happen):

* A replay runs only when the call matches the recording: the shapes and dtypes of the array
  arguments, the other arguments' values, grad mode, the parameters (same tensors, shapes,
  dtypes and ``requires_grad``), each optimizer's parameter list and each module's
  ``training`` flag. Otherwise the step is recorded again (``strict=True`` raises instead).
* A step is replayed only after two recordings agree: anything the function computed
  outside tinygrad_nd's ops (a constant, a Python number) must be the same in both, or the
  jit refuses with a warning naming it (values computed from the batch outside the ops would
  otherwise be frozen). In-place changes of tensors must come from the optimizer, the
  declared side effects (:mod:`tinygrad_nd.side_effects`) or ``add_``/``mul_``/``copy_``/
  ``fill_`` with recorded operands.
* What cannot be replayed runs eagerly, with a :class:`JitWarning` saying why: tensor and
  module hooks (so the diagnostics monitors keep working), engine observers,
  ``create_graph=True``, ``tg.grad``, ``retain_grad()`` on intermediates.

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

import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd, engine, side_effects
from . import dtypes as _dtypes
from .autograd import Context, Function
from .nn.module import Module
from .optim.optimizer import Optimizer
from .tensor import Tensor

__all__ = ["jit", "Jit", "JitError", "JitWarning"]

_MAX_SIGNATURES = 16  # recordings kept per function (a different last batch adds one)
_UNCHANGED = ([0], 0)  # a version counter that never moves: replayed contexts check nothing
_recording = threading.local()  # whether this thread records (a jit inside a jit runs eagerly)
_record_lock = threading.Lock()  # recordings patch classes: one at a time


class JitError(RuntimeError):
    """Raised by a ``strict`` jit function that would record again or run eagerly."""


class JitWarning(UserWarning):
    """A jit function runs eagerly for a reason named in the message."""


def jit(fn: Callable[..., Any] | None = None, *, strict: bool = False) -> Any:
    """Compile a training step: record it on its first calls, replay it as flat numpy calls.

    Parameters
    ----------
    fn : the step, a function of the batch (arrays, Tensors or Python values) that runs
        forward, ``backward()`` and ``opt.step()``; it may return Tensors (the loss).
    strict : raise :class:`JitError` instead of recording again when a call does not match
        the recording, or instead of running eagerly (with a warning) what cannot be replayed.

    Returns
    -------
    Jit
        Callable like ``fn``; the returned Tensors hold the step's values (without a graph).

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
    """A function compiled by :func:`jit`; see there. ``replays`` counts replayed calls,
    ``recordings`` recorded ones, and :meth:`tape_text` prints the last tape."""

    def __init__(self, fn: Callable[..., Any], strict: bool = False) -> None:
        self.fn, self.strict = fn, strict
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)
        self.replays = self.recordings = 0
        self._entries: dict[Any, _Entry] = {}
        self._last: _Tape | None = None
        self._warned: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(_recording, "active", False):  # inside another jit's recording
            return self.fn(*args, **kwargs)
        flat = list(args) + [kwargs[k] for k in sorted(kwargs)]
        key = (_signature(flat), tuple(sorted(kwargs)), autograd.is_grad_enabled())
        entry = self._entries.get(key)
        if entry is not None and entry.tape is not None:
            reason = entry.tape.blocked()
            if reason is None:
                self.replays += 1
                return entry.tape.run(flat)
            if reason.startswith("eager:"):  # hooks/observers now: run eagerly, keep the tape
                return self._eager(reason[6:], args, kwargs)
            self._refuse_strict(f"the call does not match the recording ({reason})")
            entry = None
        elif entry is not None and entry.refused is not None:
            return self._eager(entry.refused, args, kwargs)
        elif entry is None and self._entries:
            self._refuse_strict("the arguments' shapes, dtypes or values, or grad mode, "
                                f"differ from every recording ({_describe_key(key)})")
        if entry is None:
            if len(self._entries) >= _MAX_SIGNATURES:
                self._entries.pop(next(iter(self._entries)))
            entry = self._entries[key] = _Entry()
        return self._record(entry, flat, args, kwargs)

    # ---- recording ---------------------------------------------------------------------
    def _record(self, entry: _Entry, flat: list[Any], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        self.recordings += 1
        recorder = _Recorder(flat)
        result = recorder.run(self.fn, args, kwargs)
        reason = recorder.refused or recorder.finish(result)
        if reason is not None:
            entry.refused = reason
            self._warn(reason)
            return result
        if entry.first is None:
            entry.first = recorder
            return result
        reason = _compare(entry.first.description(), recorder.description())
        if reason is not None:
            entry.refused = ("two recordings of the step differ: " + reason + "; values "
                             "computed outside tinygrad_nd ops must be passed as arguments")
            self._warn(entry.refused)
            return result
        entry.first = None
        entry.tape = self._last = _Tape(recorder)
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

    def tape_text(self) -> str:
        """The last compiled tape, one numpy call per line (see the docs' jit page)."""
        if self._last is None:
            return "(nothing compiled yet: a step is replayed from its third call)"
        return self._last.text()


class _Entry:
    """What is known about one call signature: a first recording, a tape, or a refusal."""

    def __init__(self) -> None:
        self.first: _Recorder | None = None
        self.tape: _Tape | None = None
        self.refused: str | None = None


def _signature(values: list[Any]) -> tuple[Any, ...]:
    key = []
    for v in values:
        if isinstance(v, Tensor):
            key.append(("T", v.data.shape, v.data.dtype.str, v.requires_grad))
        elif isinstance(v, np.ndarray):
            key.append(("A", v.shape, v.dtype.str))
        elif isinstance(v, (int, float, bool, str, bytes, np.generic)) or v is None:
            key.append(("V", type(v).__name__, v))
        else:
            key.append(("O", id(v)))
    return tuple(key)


def _describe_key(key: Any) -> str:
    args, names, grad_mode = key
    parts = [f"{k[1]} {k[2]}" if k[0] in "TA" else repr(k[2]) if k[0] == "V" else "object"
             for k in args]
    return f"arguments ({', '.join(parts)}), grad mode {grad_mode}"


# ---- the recorder ---------------------------------------------------------------------------
class _Recorder:
    """Runs the step eagerly with class-level patches that report what it does.

    Values are numbered *nodes*; each is one of: ``("arg", k)`` the k-th argument's array,
    ``("conv", k, dtype)`` it converted by ``Tensor(arg, dtype)``, ``("param", t)`` a tensor
    from outside the step (read by reference), ``("const", array)``, ``("op", i)`` the output
    of event i, ``("effect", i)`` the result of side effect i, ``("alias", n)`` a leaf
    sharing node n's array (``detach()``). Events: ``("op", cls, inputs, params, out, needs,
    recorded)``, ``("backward", seeds, plan)``, ``("effect", fn, args, kwargs, out)``,
    ``("inplace", method, target, args, kwargs)``, ``("step", opt)``, ``("zero_grad", opt,
    set_to_none)``.
    """

    def __init__(self, args: list[Any]) -> None:
        self.args = args
        self.arg_of: dict[int, int] = {}  # id of an argument (or its array) -> position
        self.arg_array: dict[int, int] = {}
        for k, a in enumerate(args):
            if isinstance(a, Tensor):
                self.arg_of[id(a)] = k
                self.arg_array[id(a.data)] = k
            elif isinstance(a, np.ndarray):
                self.arg_array[id(a)] = k
        self.nodes: list[tuple[Any, ...]] = []
        self.node_of: dict[int, int] = {}   # id(Tensor) -> node
        self.array_node: dict[int, int] = {}  # id(array made in the step) -> node
        self.keep: list[Any] = []  # everything whose id is a key above stays alive
        self.events: list[tuple[Any, ...]] = []
        self.created: dict[int, Tensor] = {}
        self.conversions: dict[int, tuple[int, Any]] = {}
        self.versions: dict[int, tuple[Tensor, int]] = {}
        self.explained: set[int] = set()  # ids of tensors changed in place by recorded events
        self.modules: dict[int, tuple[Module, bool]] = {}
        self.optimizers: dict[int, tuple[Optimizer, list[int]]] = {}
        self.refused: str | None = None
        self.busy = 0  # > 0 inside a recorded call whose insides are not events themselves
        self.making = 0  # > 0 while Tensor._make fills in a new tensor
        self.result: Any = None

    def refuse(self, reason: str) -> None:
        if self.refused is None:
            self.refused = reason

    # ---- running under the patches ------------------------------------------------------
    def run(self, fn: Callable[..., Any], args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Any:
        with _record_lock:
            patches = _Patches(self)
            _recording.active = True
            token = side_effects._recorder.set(self.on_effect)
            try:
                patches.install()
                return fn(*args, **kwargs)
            finally:
                patches.remove()
                side_effects._recorder.reset(token)
                _recording.active = False

    def node(self, t: Tensor) -> int:
        """The node of tensor ``t``, classifying it on first sight."""
        n = self.node_of.get(id(t))
        if n is not None:
            return n
        if t._ctx is not None:  # a graph built before the step: used by value
            kind: tuple[Any, ...] = ("param", t)
            self.versions[id(t)] = (t, t._version[0])
        elif id(t) in self.arg_of:
            kind = ("arg", self.arg_of[id(t)])
        elif id(t.data) in self.array_node:
            kind = ("alias", self.array_node[id(t.data)])
        elif id(t.data) in self.arg_array:
            kind = ("arg", self.arg_array[id(t.data)])
        elif id(t) in self.conversions:
            kind = ("conv",) + self.conversions[id(t)]
        elif id(t) in self.created:
            kind = ("const", t.data)
        else:
            kind = ("param", t)
            self.versions[id(t)] = (t, t._version[0])
        if t.requires_grad and kind[0] in ("alias", "conv", "const"):
            self.refuse(f"a tensor of shape {t.shape} created inside the step requires grad "
                        "(pass it as an argument)")
        return self._add(t, kind)

    def _add(self, t: Any, kind: tuple[Any, ...]) -> int:
        n = len(self.nodes)
        self.nodes.append(kind)
        self.keep.append(t)
        if isinstance(t, Tensor):
            self.node_of[id(t)] = n
        return n

    def value(self, v: Any) -> tuple[Any, ...]:
        """A reference to an op parameter or effect argument: a node, or a constant."""
        if isinstance(v, Tensor):
            return ("T", self.node(v))
        if isinstance(v, np.ndarray):
            if id(v) in self.array_node:
                return ("A", self.array_node[id(v)])
            if id(v) in self.arg_array:
                return ("argA", self.arg_array[id(v)])
            return ("V", v)
        if isinstance(v, (tuple, list)) and any(isinstance(e, (Tensor, np.ndarray)) for e in v):
            return ("seq", type(v), tuple(self.value(e) for e in v))
        return ("V", v)

    def on_op(self, cls: type[Function], inputs: tuple[Tensor, ...], params: dict[str, Any],
              out: Tensor) -> None:
        ins = tuple(self.node(t) for t in inputs)
        refs = {k: self.value(v) for k, v in params.items()}
        i = len(self.events)
        n = self._add(out, ("op", i))
        self.array_node[id(out.data)] = n
        self.events.append(("op", cls, ins, refs, n, tuple(t.requires_grad for t in inputs),
                            out._ctx is not None))

    def on_backward(self, roots: Any, root_grads: Any, create_graph: bool,
                    inputs: Any) -> None:
        if create_graph:
            return self.refuse("backward(create_graph=True) (higher-order gradients)")
        if inputs is not None:
            return self.refuse("tg.grad() (gradients returned rather than stored in .grad)")
        if autograd._open_observers:
            return self.refuse("an engine observer is open (autograd.observe, grad_health)")
        plan = []
        for node in reversed(engine.toposort(roots)):
            if node._hooks:
                return self.refuse(f"a tensor hook on a tensor of shape {node.shape} (e.g. a "
                                   "GradientMonitor)")
            ctx = node._ctx
            if ctx is None:
                plan.append((self.node(node), None, None, "", ()))
                continue
            if node._retains_grad:
                return self.refuse("retain_grad() on an intermediate tensor")
            n = self.node_of.get(id(node))
            if n is None or self.nodes[n][0] != "op":
                return self.refuse(f"backward reaches a graph built before the step "
                                   f"({ctx.op_name}, shape {node.shape})")
            function = ctx.function
            bwd = function.backward if function.backward_arrays is None else \
                function.backward_arrays
            targets = tuple((i, self.node(t), t.data.shape, t.data.dtype)
                            for i, (t, need) in enumerate(zip(ctx.inputs, ctx.needs_input_grad))
                            if need)
            plan.append((n, self.nodes[n][1], bwd, function.op_name, targets))
        seeds = tuple((self.node(r), self.node(g)) for r, g in zip(roots, root_grads))
        self.events.append(("backward", seeds, tuple(plan)))

    def on_effect(self, fn: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
        if self.busy or threading.get_ident() != self.thread:
            return fn(*args, **kwargs)
        self.busy += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.busy -= 1
        refs = tuple(self.value(a) for a in args)
        krefs = {k: self.value(v) for k, v in kwargs.items()}
        for a in (*args, *kwargs.values()):
            if isinstance(a, Tensor):
                self.explained.add(id(a))
        i = len(self.events)
        n = None
        if isinstance(out, np.ndarray):
            n = self._add(out, ("effect", i))
            self.array_node[id(out)] = n
        elif out is not None:
            self.refuse(f"side effect {fn.__name__} returned a {type(out).__name__}")
        self.events.append(("effect", fn, refs, krefs, n))
        return out

    def on_inplace(self, method: str, target: Tensor, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> None:
        n = self.node(target)
        if self.nodes[n][0] != "param":
            self.refuse(f"{method} on a tensor of shape {target.shape} made inside the step")
        self.explained.add(id(target))
        self.events.append(("inplace", method, n, tuple(self.value(a) for a in args),
                            {k: self.value(v) for k, v in kwargs.items()}))

    def on_set_grad(self, t: Tensor, value: Any) -> None:
        n = self.node(t)
        if self.nodes[n][0] not in ("param", "arg"):
            return self.refuse(f"setting .grad of a tensor of shape {t.shape} made inside the "
                               "step")
        self.events.append(("set_grad", n, self.value(value)))

    def on_optimizer(self, opt: Optimizer, what: str, set_to_none: bool = True) -> None:
        params = opt._all_params()
        self.optimizers[id(opt)] = (opt, [id(p) for p in params])
        if what == "step":
            self.explained.update(id(p) for p in params)
            self.events.append(("step", opt))
        else:
            self.events.append(("zero_grad", opt, set_to_none))

    def finish(self, result: Any) -> str | None:
        """After the run: check every in-place change is explained, map the result."""
        for t, version in self.versions.values():
            if t._version[0] != version and id(t) not in self.explained:
                return (f"a tensor of shape {t.shape} from outside the step was changed in "
                        "place by code the jit does not record")
        self.result = self._result_ref(result)
        return self.refused

    def _result_ref(self, r: Any) -> Any:
        if isinstance(r, Tensor):
            return ("T", self.node(r))
        if isinstance(r, (tuple, list)):
            return ("seq", type(r), tuple(self._result_ref(e) for e in r))
        if isinstance(r, dict):
            return ("dict", tuple((k, self._result_ref(v)) for k, v in r.items()))
        if r is None or isinstance(r, (int, float, bool, str)):
            return ("V", r)
        self.refuse(f"the step returns a {type(r).__name__}; return Tensors (call .item() "
                    "outside the step), tuples, lists or dicts of them, or constants")
        return None

    def description(self) -> tuple[Any, ...]:
        """What two recordings must share for the step to be replayable."""
        return (tuple(self.nodes), tuple(self.events), self.result,
                tuple((m, tr) for m, tr in self.modules.values()))


class _Patches:
    """Install and remove the recording wrappers around the library's entry points."""

    INPLACE = ("add_", "mul_", "copy_", "fill_")

    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec
        self.saved: list[tuple[Any, str, Any]] = []
        rec.thread = threading.get_ident()

    def _set(self, owner: Any, name: str, value: Any) -> None:
        self.saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    def install(self) -> None:
        rec, thread = self.rec, self.rec.thread
        apply, run_backward = Function.apply.__func__, engine.run_backward
        init, make, inplace = Tensor.__init__, Tensor._make.__func__, Tensor._inplace
        step, zero_grad, call = Optimizer.step, Optimizer.zero_grad, Module.__call__
        grad_slot, data_slot = Tensor.__dict__["grad"], Tensor.__dict__["data"]

        def mine() -> bool:
            return not rec.busy and threading.get_ident() == thread

        def apply_(cls: Any, *inputs: Any, **params: Any) -> Any:
            if not (inputs and isinstance(inputs[0], Tensor)) or not mine():
                return apply(cls, *inputs, **params)
            rec.busy += 1
            try:
                out = apply(cls, *inputs, **params)
            finally:
                rec.busy -= 1
            rec.on_op(cls, inputs, params, out)
            return out

        def run_backward_(roots: Any, root_grads: Any, retain_graph: bool, create_graph: bool,
                          inputs: Any = None) -> Any:
            if not mine():
                return run_backward(roots, root_grads, retain_graph, create_graph, inputs)
            rec.on_backward(roots, root_grads, create_graph, inputs)
            rec.busy += 1
            try:
                return run_backward(roots, root_grads, retain_graph, create_graph, inputs)
            finally:
                rec.busy -= 1

        def init_(self: Tensor, data: Any, requires_grad: bool = False, dtype: Any = None,
                  name: str | None = None) -> None:
            if threading.get_ident() == thread:
                rec.created[id(self)] = self
            init(self, data, requires_grad, dtype, name)
            if threading.get_ident() == thread:
                if isinstance(data, np.ndarray) and id(data) in rec.arg_array:
                    rec.conversions[id(self)] = (rec.arg_array[id(data)], dtype)

        def make_(cls: Any, data: np.ndarray, ctx: Any) -> Tensor:
            rec.making += 1
            try:
                t = make(cls, data, ctx)
            finally:
                rec.making -= 1
            if threading.get_ident() == thread:
                rec.created[id(t)] = t
            return t

        def inplace_(self: Tensor, op: str) -> np.ndarray:
            if mine():  # an in-place method the jit does not know how to replay
                rec.refuse(f"{op} on a tensor of shape {self.shape} (not recorded by the jit)")
            return inplace(self, op)

        def recorded_inplace(name: str) -> Callable[..., Any]:
            method = getattr(Tensor, name)

            def run(self: Tensor, *args: Any, **kwargs: Any) -> Any:
                if not mine():
                    return method(self, *args, **kwargs)
                rec.on_inplace(name, self, args, kwargs)
                rec.busy += 1
                try:
                    return method(self, *args, **kwargs)
                finally:
                    rec.busy -= 1
            return run

        def step_(opt: Optimizer) -> None:
            if not mine():
                return step(opt)
            if type(opt).step is not step_:
                rec.refuse(f"{type(opt).__name__} overrides Optimizer.step")
            rec.on_optimizer(opt, "step")
            rec.busy += 1
            try:
                return step(opt)
            finally:
                rec.busy -= 1

        def zero_grad_(opt: Optimizer, set_to_none: bool = True) -> None:
            if not mine():
                return zero_grad(opt, set_to_none)
            rec.on_optimizer(opt, "zero_grad", set_to_none)
            rec.busy += 1
            try:
                return zero_grad(opt, set_to_none)
            finally:
                rec.busy -= 1

        def set_grad(t: Tensor, value: Any) -> None:
            if mine() and not rec.making and id(t) not in rec.created:
                rec.on_set_grad(t, value)
            grad_slot.__set__(t, value)

        def set_data(t: Tensor, value: Any) -> None:
            if mine() and not rec.making and id(t) not in rec.created:
                rec.refuse(f"assigning .data of a tensor of shape {t.shape} from outside the "
                           "step")
            data_slot.__set__(t, value)

        def call_(module: Module, *args: Any, **kwargs: Any) -> Any:
            if mine():
                rec.modules[id(module)] = (module, module.training)
                if _module_hooks(module):
                    rec.refuse(f"module hooks on {type(module).__name__} (e.g. an "
                               "ActivationMonitor)")
            return call(module, *args, **kwargs)

        self._set(Function, "apply", classmethod(apply_))
        self._set(engine, "run_backward", run_backward_)
        self._set(Tensor, "__init__", init_)
        self._set(Tensor, "_make", classmethod(make_))
        self._set(Tensor, "_inplace", inplace_)
        for name in self.INPLACE:
            self._set(Tensor, name, recorded_inplace(name))
        self._set(Optimizer, "step", step_)
        self._set(Optimizer, "zero_grad", zero_grad_)
        self._set(Module, "__call__", call_)
        self._set(Tensor, "grad", property(lambda t: grad_slot.__get__(t, Tensor), set_grad))
        self._set(Tensor, "data", property(lambda t: data_slot.__get__(t, Tensor), set_data))

    def remove(self) -> None:
        for owner, name, value in reversed(self.saved):
            setattr(owner, name, value)
        self.saved.clear()


def _module_hooks(module: Module) -> bool:
    return bool(module._forward_pre_hooks or module._forward_hooks or module._backward_hooks)


# ---- comparing two recordings ---------------------------------------------------------------
def _compare(a: Any, b: Any, where: str = "step") -> str | None:
    """None when ``a`` and ``b`` are the same recording, else what differs."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape \
                or a.dtype != b.dtype or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            return f"an array computed outside the ops changed ({where})"
        return None
    if isinstance(a, (tuple, list)):
        if type(a) is not type(b) or len(a) != len(b):
            return f"the structure changed ({where})"
        if len(a) and isinstance(a[0], str) and a[0] in ("op", "effect", "inplace"):
            where = f"{a[0]} {getattr(a[1], 'op_name', getattr(a[1], '__name__', a[1]))}"
        for x, y in zip(a, b):
            reason = _compare(x, y, where)
            if reason is not None:
                return reason
        return None
    if isinstance(a, dict):
        if type(b) is not dict or list(a) != list(b):
            return f"the structure changed ({where})"
        return _compare(list(a.values()), list(b.values()), where)
    if isinstance(a, (int, float, bool, str, np.generic)) and not isinstance(a, np.ndarray):
        same = type(a) is type(b) and (a == b or (a != a and b != b))
        return None if same else f"a Python value changed: {a!r} then {b!r} ({where})"
    if isinstance(a, slice):
        return None if a == b else f"a slice changed: {a!r} then {b!r} ({where})"
    if isinstance(a, np.dtype) or isinstance(b, np.dtype):
        return None if a == b else f"a dtype changed ({where})"
    return None if a is b else f"a different object was used ({where})"


# ---- the tape -------------------------------------------------------------------------------
class _Tape:
    """A recording compiled into guards and a flat list of calls."""

    def __init__(self, rec: _Recorder) -> None:
        self.nodes, self.events, self.result = rec.nodes, rec.events, rec.result
        self.slot = [n if kind[0] != "alias" else kind[1] for n, kind in enumerate(rec.nodes)]
        self.template: list[Any] = [kind[1] if kind[0] == "const" else None
                                    for kind in rec.nodes]
        self.loads = [(n, kind) for n, kind in enumerate(rec.nodes)
                      if kind[0] in ("arg", "conv", "param")]
        self.params = [(kind[1], kind[1].data.shape, kind[1].data.dtype, kind[1].requires_grad)
                       for kind in rec.nodes if kind[0] == "param"]
        self.optimizers = list(rec.optimizers.values())
        self.modules = list(rec.modules.values())
        self.n_events = len(rec.events)
        self.calls = [self._compile(i, e) for i, e in enumerate(rec.events)]

    # ---- guards ---------------------------------------------------------------------------
    def blocked(self) -> str | None:
        """Why this call may not be replayed (``eager:`` reasons keep the tape), or None."""
        if autograd._open_observers:
            return "eager:an engine observer is open (autograd.observe, grad_health)"
        for t, shape, dtype, requires_grad in self.params:
            if t._hooks:
                return f"eager:a tensor hook on a tensor of shape {shape} (e.g. a GradientMonitor)"
            data = t.data
            if data.shape != shape or data.dtype != dtype or t.requires_grad != requires_grad:
                return f"a tensor of shape {shape} read by the step changed shape, dtype or " \
                       "requires_grad"
        for opt, ids in self.optimizers:
            if [id(p) for p in opt._all_params()] != ids:
                return f"the parameters of {type(opt).__name__} changed"
        for module, training in self.modules:
            if module.training != training:
                return f"{type(module).__name__}.training changed"
            if _module_hooks(module):
                return f"eager:module hooks on {type(module).__name__} (e.g. an ActivationMonitor)"
        return None

    # ---- running --------------------------------------------------------------------------
    def run(self, args: list[Any]) -> Any:
        slots = self.template[:]
        for n, kind in self.loads:
            what = kind[0]
            if what == "param":
                slots[n] = kind[1].data
            else:
                a = args[kind[1]]
                a = a.data if isinstance(a, Tensor) else a
                slots[n] = a if what == "arg" else _dtypes.as_array(a, kind[2])
        ctxs: list[Any] = [None] * self.n_events
        for call in self.calls:
            call(slots, ctxs, args)
        return self._build(self.result, slots, args)

    def _build(self, ref: Any, slots: list[Any], args: list[Any]) -> Any:
        what = ref[0]
        if what == "T":
            return self._tensor(ref[1], slots, args)
        if what == "seq":
            return ref[1](self._build(r, slots, args) for r in ref[2])
        if what == "dict":
            return {k: self._build(r, slots, args) for k, r in ref[1]}
        return ref[1]

    def _tensor(self, n: int, slots: list[Any], args: list[Any]) -> Tensor:
        kind = self.nodes[n]
        if kind[0] == "param":
            return kind[1]
        if kind[0] == "arg" and isinstance(args[kind[1]], Tensor):
            return args[kind[1]]
        return Tensor._make(slots[self.slot[n]], None)

    def _value(self, ref: tuple[Any, ...], slots: list[Any], args: list[Any]) -> Any:
        what = ref[0]
        if what == "V":
            return ref[1]
        if what == "A":
            return slots[self.slot[ref[1]]]
        if what == "T":
            return self._tensor(ref[1], slots, args)
        if what == "argA":
            a = args[ref[1]]
            return a.data if isinstance(a, Tensor) else a
        return ref[1](self._value(r, slots, args) for r in ref[2])  # "seq"

    def _compile(self, i: int, event: tuple[Any, ...]) -> Callable[..., None]:
        kind = event[0]
        if kind == "op":
            return self._compile_op(i, *event[1:])
        if kind == "backward":
            return self._compile_backward(*event[1:])
        if kind == "step":
            opt = event[1]
            return lambda slots, ctxs, args: opt.step()
        if kind == "zero_grad":
            opt, set_to_none = event[1:]
            return lambda slots, ctxs, args: opt.zero_grad(set_to_none)
        if kind == "set_grad":
            target, ref = event[1:]
            tensor, value = self._tensor, self._value

            def set_grad(slots: list[Any], ctxs: list[Any], args: list[Any]) -> None:
                tensor(target, slots, args).grad = value(ref, slots, args)
            return set_grad
        if kind == "effect":
            fn, refs, krefs, out = event[1:]
            value = self._value

            def effect(slots: list[Any], ctxs: list[Any], args: list[Any]) -> None:
                result = fn(*[value(r, slots, args) for r in refs],
                            **{k: value(r, slots, args) for k, r in krefs.items()})
                if out is not None:
                    slots[out] = result
            return effect
        method, target, refs, krefs = event[1:]
        tensor, fn, value = self.nodes[target][1], getattr(Tensor, method), self._value

        def inplace(slots: list[Any], ctxs: list[Any], args: list[Any]) -> None:
            fn(tensor, *[value(r, slots, args) for r in refs],
               **{k: value(r, slots, args) for k, r in krefs.items()})
        return inplace

    def _compile_op(self, i: int, cls: type[Function], ins: tuple[int, ...],
                    refs: dict[str, Any], out: int, needs: tuple[bool, ...],
                    recorded: bool) -> Callable[..., None]:
        forward, slot, value = cls.forward, self.slot, self._value
        ins = tuple(slot[n] for n in ins)
        static = all(r[0] == "V" for r in refs.values())
        fixed = {k: r[1] for k, r in refs.items()} if static else {}

        def op(slots: list[Any], ctxs: list[Any], args: list[Any]) -> None:
            ctx = Context(cls, (), recorded)
            ctx.needs_input_grad = needs
            ctx._output_version = _UNCHANGED
            params = fixed if static else {k: value(r, slots, args) for k, r in refs.items()}
            result = forward(ctx, *[slots[n] for n in ins], **params)
            if type(result) is not np.ndarray:  # numpy's 0-d results are scalars
                scalar, result = result, np.asarray(result)
                if ctx._saved:
                    ctx._saved = tuple([result if s is scalar else s for s in ctx._saved])
            ctx._output_data = result
            slots[out] = result
            ctxs[i] = ctx
        return op

    def _compile_backward(self, seeds: tuple[tuple[int, int], ...],
                          plan: tuple[Any, ...]) -> Callable[..., None]:
        """The engine's walk (:func:`tinygrad_nd.engine.run_backward`) with its order, its
        un-broadcasting and its accumulation decided: the same arithmetic, none of the
        sorting."""
        slot, nodes = self.slot, self.nodes
        leaves = {n: nodes[n] for n, k, *_ in plan if k is None}
        unbroadcast, accumulate = engine.unbroadcast, engine._accumulate_grad
        set_mode, grad_enabled = autograd._set_grad_mode, autograd._grad_enabled

        def backward(slots: list[Any], ctxs: list[Any], args: list[Any]) -> None:
            grads: dict[int, Any] = {}
            stored: set[int] = set()
            for r, s in seeds:
                g = slots[slot[s]]
                stored.add(id(g))
                grads[r] = g if r not in grads else grads[r] + g
            previous = grad_enabled()
            set_mode(False)
            quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
            quiet.__enter__()
            try:
                for n, k, bwd, name, targets in plan:
                    g = grads.pop(n, None)
                    if g is None:
                        continue
                    if k is None:
                        leaf = leaves[n]
                        tensor = leaf[1] if leaf[0] == "param" else args[leaf[1]]
                        accumulate(tensor, g, False, stored)
                        continue
                    input_grads = bwd(ctxs[k], g)
                    for pos, t, shape, dtype in targets:
                        gi = input_grads[pos]
                        if gi is None:
                            continue
                        if gi.shape != shape:
                            gi = unbroadcast(gi, shape, name)
                        if gi.dtype is not dtype and gi.dtype != dtype:
                            gi = gi.astype(dtype)
                        previous_g = grads.get(t)
                        if previous_g is not None:
                            gi = previous_g + gi
                        if type(gi) is not np.ndarray:
                            gi = np.asarray(gi)
                        grads[t] = gi
            finally:
                quiet.__exit__(None, None, None)
                set_mode(previous)
        return backward

    # ---- reading --------------------------------------------------------------------------
    def text(self) -> str:
        """One line per call of the tape."""
        names = {}
        lines = []
        for n, kind in enumerate(self.nodes):
            what = kind[0]
            if what == "arg":
                names[n] = f"arg{kind[1]}"
            elif what == "conv":
                names[n] = f"arg{kind[1]}"
            elif what == "param":
                names[n] = f"p{n}"
                lines.append(f"p{n} = tensor {kind[1].data.shape} {kind[1].data.dtype}"
                             " (read by reference)")
            elif what == "const":
                names[n] = f"c{n}"
            else:
                names[n] = f"v{n}"
        for n, kind in enumerate(self.nodes):
            if kind[0] == "alias":
                names[n] = names[kind[1]]

        def ref(r: Any) -> str:
            if r[0] in ("A", "T"):
                return names[r[1]]
            if r[0] == "argA":
                return f"arg{r[1]}"
            if r[0] == "seq":
                return "(" + ", ".join(ref(e) for e in r[2]) + ")"
            v = r[1]
            return f"array{v.shape}" if isinstance(v, np.ndarray) else repr(v)

        for event in self.events:
            kind = event[0]
            if kind == "op":
                cls, ins, refs, out = event[1:5]
                params = "".join(f", {k}={ref(r)}" for k, r in refs.items())
                args = ", ".join(names[n] for n in ins)
                lines.append(f"{names[out]} = {cls.op_name}.forward({args}{params})")
            elif kind == "backward":
                seeds, plan = event[1:]
                lines.append(f"# backward of {', '.join(names[r] for r, _ in seeds)}")
                for n, k, _, name, targets in plan:
                    if k is None:
                        lines.append(f"{names[n]}.grad += g[{names[n]}]")
                    else:
                        outs = ", ".join(f"g[{names[t]}]" for _, t, *_ in targets)
                        lines.append(f"{outs} += {name}.backward(g[{names[n]}])")
            elif kind == "effect":
                fn, refs, krefs, out = event[1:]
                call = f"{fn.__name__}({', '.join(ref(r) for r in refs)})"
                lines.append(call if out is None else f"{names[out]} = {call}")
            elif kind == "inplace":
                method, target, refs = event[1:4]
                lines.append(f"{names[target]}.{method}({', '.join(ref(r) for r in refs)})")
            elif kind == "set_grad":
                lines.append(f"{names[event[1]]}.grad = {ref(event[2])}")
            elif kind == "step":
                lines.append(f"{type(event[1]).__name__}.step()")
            else:
                lines.append(f"{type(event[1]).__name__}.zero_grad()")
        return "\n".join(lines)
