"""Recording a training step: the step runs eagerly while class-level wrappers around the
library's entry points (`Function.apply`, the engine's walk, the optimizer, in-place
methods, `Tensor` creation, `.grad` and `.data` writes, module calls, declared side
effects) report what it does, as numbered nodes and events."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd, engine, side_effects
from ..autograd import Function
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor

recording = threading.local()  # whether this thread records (a jit inside a jit runs eagerly)
_record_lock = threading.Lock()  # recordings patch classes: one at a time


class Recorder:
    """Runs the step eagerly with class-level patches that report what it does.

    Values are numbered *nodes*; each is one of: `("arg", k)` the k-th argument's array,
    `("conv", k, dtype)` it converted by `Tensor(arg, dtype)`, `("param", t)` a tensor
    from outside the step (read by reference), `("const", array)`, `("op", i)` the output
    of event i, `("effect", i)` the result of side effect i, `("alias", n)` a leaf
    sharing node n's array (`detach()`). Events: `("op", cls, inputs, params, out, needs,
    recorded)`, `("backward", seeds, plan)`, `("effect", fn, args, kwargs, out)`,
    `("inplace", method, target, args, kwargs)`, `("step", opt)`, `("zero_grad", opt,
    set_to_none)`.
    """

    def __init__(self, args: tuple[Any, ...]) -> None:
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
            patches = Patches(self)
            recording.active = True
            token = side_effects._recorder.set(self.on_effect)
            try:
                patches.install()
                return fn(*args, **kwargs)
            finally:
                patches.remove()
                side_effects._recorder.reset(token)
                recording.active = False

    def node(self, t: Tensor) -> int:
        """The node of tensor `t`, classifying it on first sight."""
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
        for node in engine.backward_order(roots):
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
        self.optimizers[id(opt)] = (opt, param_ids(opt))
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


class Patches:
    """Install and remove the recording wrappers around the library's entry points."""

    INPLACE = ("add_", "mul_", "copy_", "fill_")
    VALUE_READS = ("item", "tolist", "__float__", "__int__", "__bool__")

    def __init__(self, rec: Recorder) -> None:
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

        def value_read(name: str) -> Callable[..., Any]:
            method = getattr(Tensor, name)

            def run(self: Tensor, *args: Any, **kwargs: Any) -> Any:
                if mine():  # Python would carry the value on, and the replay cannot
                    rec.refuse(f"Tensor.{name}() reads a tensor's value into Python inside "
                               "the step; return the tensor and read it after the call")
                return method(self, *args, **kwargs)
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
                if module_hooks(module):
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
        for name in self.VALUE_READS:
            self._set(Tensor, name, value_read(name))
        self._set(Tensor, "grad", property(lambda t: grad_slot.__get__(t, Tensor), set_grad))
        self._set(Tensor, "data", property(lambda t: data_slot.__get__(t, Tensor), set_data))

    def remove(self) -> None:
        for owner, name, value in reversed(self.saved):
            setattr(owner, name, value)
        self.saved.clear()


def param_ids(opt: Optimizer) -> list[int]:
    """Identity of an optimizer's parameter groups and their parameters, in order."""
    return [i for group in opt.param_groups for i in (id(group), *map(id, group["params"]))]


def module_hooks(module: Module) -> bool:
    return bool(module._forward_pre_hooks or module._forward_hooks or module._backward_hooks)


# ---- comparing two recordings ---------------------------------------------------------------
def compare(a: Any, b: Any, where: str = "step") -> str | None:
    """None when `a` and `b` are the same recording, else what differs."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape \
                or a.dtype != b.dtype or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            shape = getattr(a, "shape", getattr(b, "shape", "?"))
            return f"an array of shape {shape} computed outside the ops changed ({where})"
        return None
    if isinstance(a, (tuple, list)):
        if type(a) is not type(b) or len(a) != len(b):
            return f"the structure changed ({where})"
        if len(a) and isinstance(a[0], str) and a[0] in ("op", "effect", "inplace"):
            where = f"{a[0]} {getattr(a[1], 'op_name', getattr(a[1], '__name__', a[1]))}"
        for x, y in zip(a, b):
            reason = compare(x, y, where)
            if reason is not None:
                return reason
        return None
    if isinstance(a, dict):
        if type(b) is not dict or list(a) != list(b):
            return f"the structure changed ({where})"
        return compare(list(a.values()), list(b.values()), where)
    if isinstance(a, (int, float, bool, str, np.generic)) and not isinstance(a, np.ndarray):
        same = type(a) is type(b) and (a == b or (a != a and b != b))
        return None if same else f"a Python value changed: {a!r} then {b!r} ({where})"
    if isinstance(a, slice):
        return None if a == b else f"a slice changed: {a!r} then {b!r} ({where})"
    if isinstance(a, np.dtype) or isinstance(b, np.dtype):
        return None if a == b else f"a dtype changed ({where})"
    return None if a is b else f"a different object was used ({where})"
