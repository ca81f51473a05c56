"""A recording compiled into guards and one generated Python function: the tape.

The function is straight-line code, one line per numpy-level call: each op's `forward` on
the arrays of the previous lines, then the backward pass as the engine would walk it (each
op's `backward`, the engine's un-broadcasting, dtype casts and accumulation, in the
recorded order), the optimizer and the side effects. Its source is `Tape.source`, what
`Jit.tape_text()` prints.

Ops with a kernel (`kernels.py`) are written out as their numpy calls instead, each result
going into a buffer allocated once (`out=`). A buffer is reused only while nothing outside
the tape holds it: one that can reach the user (the returned loss, a `.grad`, an array
passed to an op's own code) is checked with `sys.getrefcount` just before it is written,
and replaced by a fresh one when someone kept a reference (`loss = step(x, y); step(x2,
y2)` leaves `loss` alone, as the eager step would).
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

from .. import autograd, engine, fpstate
from .. import dtypes as _dtypes
from ..autograd import Context, _engine_lock
from ..fpstate import Ignoring
from ..ops.blocked_gemm import matmul_in_blocks
from ..optim.optimizer import _NO_STATE, Optimizer
from ..optim.optimizers import SGD
from ..tensor import Tensor
from .gradients import Gradients
from .kernels import KERNELS, KernelCall
from .recorder import Recorder, param_ids

_UNCHANGED = ([0], 0)  # a version counter that never moves: a replayed context checks nothing
BACKWARD_QUIET = Ignoring(over="ignore", invalid="ignore", divide="ignore")  # as the engine's
_COMMIT_QUIET = Ignoring(all="ignore")  # as Optimizer.step's commit
_CHECK = "\0check "  # a placeholder line: check buffer ... before writing it, if it escapes


class Tape:
    """Guards (when a call may be replayed) and the generated replay function."""

    def __init__(self, rec: Recorder, signature: tuple[Any, ...] | None = None) -> None:
        self.nodes = rec.nodes
        self.lock = threading.Lock()
        self.args = rec.args  # the arguments of the recording (their kinds: Tensor or not)
        self.params = [(kind[1], kind[1].data.shape, kind[1].data.dtype, kind[1].requires_grad)
                       for kind in rec.nodes if kind[0] == "param"]
        self.optimizers = list(rec.optimizers.values())
        self.modules = list(rec.modules.values())
        self.namespace: dict[str, Any] = {
            "np": np, "matmul_in_blocks": matmul_in_blocks, "ndarray": np.ndarray,
            "asarray": np.asarray, "make": Tensor._make,
            "unbroadcast": engine.unbroadcast, "accumulate": engine._accumulate_grad,
            "set_grad_mode": autograd._set_grad_mode, "grad_enabled": autograd._grad_enabled,
            "as_array": _dtypes.as_array, "fix_scalar": _fix_scalar, "empty": np.empty,
            "getrefcount": sys.getrefcount, "engine_lock": _engine_lock, "renewed": [0],
            "bump_inplace_epoch": autograd.bump_inplace_epoch,
        }
        self._names: dict[int, str] = {}
        self.ctx_of: dict[int, str] = {}  # op event -> name of its reused context
        self.alias = [kind[1] if kind[0] == "alias" else n for n, kind in enumerate(rec.nodes)]
        self.arrays = [_array_of(obj) for obj in rec.keep]  # each node's recorded array
        self.kernel_of = self._choose_kernels(rec)  # op event -> kernel
        self.buffer_of: dict[int, str] = {}  # node written by a kernel -> its buffer
        self.buffers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self.escaping: set[str] = set()  # buffers that may reach code outside the tape
        self.kernel_calls: dict[int, KernelCall] = {}  # op event -> its kernel's call
        self.grad_buffers: dict[int, str] = {}  # id(parameter) -> buffer its .grad wraps
        body: list[str] = []
        for n, kind in enumerate(rec.nodes):
            body += self._load(n, kind)
        for i, event in enumerate(rec.events):
            body += getattr(self, "_" + event[0])(i, *event[1:])
        body.append(f"return {self._result(rec.result)}")
        lines = ["def replay(args):"]
        if self.escaping:
            lines.append("    global " + ", ".join(sorted(self.escaping)))
        lines += ["    " + line for line in self._resolve_checks(body)]
        self.source = "\n".join(lines)
        self.namespace.update(autograd=autograd, param_ids=param_ids)
        self.namespace["Tensor"] = Tensor
        guards = self._guards()
        guards = "\n".join(self._blocked(guards) + [""] + self._ready(signature, guards))
        exec(compile(self.source + "\n\n\n" + guards, "<tg.jit tape>", "exec"),  # noqa: S102
             self.namespace)
        self.run, self.blocked = self.namespace["replay"], self.namespace["blocked"]
        self.ready = self.namespace["ready"]

    @property
    def renewed(self) -> int:
        """How many times a replay found a buffer still held outside the tape (a kept loss
        or gradient, an op context's saved array) and wrote a fresh one instead."""
        return self.namespace["renewed"][0]

    # ---- kernels and buffers ----------------------------------------------------------------
    def _choose_kernels(self, rec: Recorder) -> dict[int, Any]:
        """Op events written out as numpy calls: a kernel exists and accepts the recorded
        arrays, and every gradient reaching the op has the op's output shape and dtype (the
        seeds of `backward()` are the one gradient not made by the tape itself)."""
        chosen = {}
        for i, event in enumerate(rec.events):
            if event[0] != "op" or event[1] not in KERNELS:
                continue
            _, cls, ins, refs, out, needs, _ = event
            arrays = [self.arrays[n] for n in ins]
            if all(isinstance(a, np.ndarray) for a in arrays) and \
                    KERNELS[cls].accepts(arrays, refs, needs):
                chosen[i] = KERNELS[cls]
        op_event = {event[4]: i for i, event in enumerate(rec.events) if event[0] == "op"}
        for event in rec.events:
            if event[0] == "backward":
                for root, seed in event[1]:
                    i = op_event.get(root)
                    r, g = self.arrays[root], self.arrays[seed]
                    if i in chosen and not (isinstance(g, np.ndarray) and g.shape == r.shape
                                            and g.dtype == r.dtype):
                        del chosen[i]
        return chosen

    def buffer(self, shape: tuple[int, ...], dtype: Any, hint: str) -> str:
        """A name for a new array of `shape` and `dtype` that the tape writes with `out=`."""
        name = f"{hint}{len(self.buffers)}"
        self.buffers[name] = (tuple(shape), np.dtype(dtype))
        self.namespace[name] = np.empty(shape, dtype)
        return name

    def const(self, value: Any, hint: str) -> str:
        """A name for a constant a kernel uses."""
        return self._const(value, hint)

    def quiet(self, ignoring: Ignoring, lines: list[str], token: str = "token",
              after: tuple[str, ...] = ()) -> list[str]:
        """`lines` under numpy's error state `ignoring` (an `fpstate.Ignoring`): its context
        variable switched inline, what `Ignoring.enter`/`exit` do, without their calls."""
        if fpstate._extobj_contextvar is None:  # numpy 1: the object's own methods
            state = self._const(ignoring, "ignoring")
            enter, leave = f"{token} = {state}.enter()", f"{state}.exit({token})"
        else:
            self.namespace["extobj"] = fpstate._extobj_contextvar
            states = self._const(ignoring._derived, "error_states")
            derive = self._const(ignoring._derived_from, "error_state_for")
            enter = (f"{token} = extobj.set({states}.get(extobj.get()) or "
                     f"{derive}(extobj.get()))")
            leave = f"extobj.reset({token})"
        if len(lines) == 1 and not after:
            return [enter, f"try: {lines[0]}", f"finally: {leave}"]
        return ([enter, "try:"] + ["    " + line for line in lines]
                + ["finally:", f"    {leave}"] + ["    " + line for line in after])

    def check_line(self, buffer: str) -> str:
        """A placeholder before the first write of `buffer` in a replay (see
        `_resolve_checks`)."""
        return _CHECK + buffer

    def _escape(self, text: str) -> str:
        """`text` (a variable or buffer name) is handed to code outside the tape."""
        if text in self.buffers:
            self.escaping.add(text)
        return text

    def _resolve_checks(self, body: list[str]) -> list[str]:
        """Placeholders become a reference-count check for escaping buffers, else nothing.

        A buffer the tape alone holds has the count `_sole_owner_count()` measures (the
        namespace's reference, plus the argument's where the interpreter counts it);
        anything more (a Tensor returned earlier, a `.grad`, a view) means the user may still
        read the old values, so the replay writes a fresh array instead."""
        sole = _sole_owner_count()
        out = []
        for line in body:
            stripped = line.lstrip()
            if not stripped.startswith(_CHECK):
                out.append(line)
                continue
            name = stripped[len(_CHECK):]
            if name in self.escaping:
                shape, dtype = self.buffers[name]
                pad = line[:len(line) - len(stripped)]
                out += [f"{pad}if getrefcount({name}) > {sole}:",
                        f"{pad}    {name} = empty({shape!r}, {self._literal(dtype)})",
                        f"{pad}    renewed[0] += 1"]
        return out

    # ---- guards ---------------------------------------------------------------------------
    def _guards(self) -> list[tuple[str, str]]:
        """(condition, reason) pairs: the recording does not apply while a condition holds
        (reasons starting `eager:` keep the tape: the call runs eagerly)."""
        guards = [("autograd._open_observers",
                   "eager:an engine observer is open (autograd.observe, grad_health)")]
        for t, shape, dtype, requires_grad in self.params:
            p = self._const(t, "t")
            guards += [(f"{p}._hooks", f"eager:a tensor hook on a tensor of shape {shape} (e.g. "
                                       "a GradientMonitor)"),
                       (f"{p}.data.shape != {shape!r} or {p}.data.dtype != "
                        f"{self._literal(dtype)} or {p}.requires_grad is not {requires_grad!r}",
                        f"a tensor of shape {shape} read by the step changed shape, dtype or "
                        "requires_grad")]
        for opt, _ in self.optimizers:
            o = self._const(opt, type(opt).__name__.lower())
            groups = [self._const(group, f"{o}_group{g}") for g, group in
                      enumerate(opt.param_groups)]
            same = [f"len({o}.param_groups) != {len(groups)}"]
            for g, (group, name) in enumerate(zip(opt.param_groups, groups)):
                ids = self._const([id(p) for p in group["params"]], f"{name}_ids")
                same += [f"{o}.param_groups[{g}] is not {name}",
                         f"list(map(id, {name}['params'])) != {ids}"]
            guards.append((" or ".join(same),
                           f"the parameter groups of {type(opt).__name__} changed"))
        for module, training in self.modules:
            m = self._const(module, type(module).__name__.lower())
            name = type(module).__name__
            guards += [(f"{m}.training is not {training!r}", f"{name}.training changed"),
                       (f"{m}._forward_pre_hooks or {m}._forward_hooks or {m}._backward_hooks",
                        f"eager:module hooks on {name} (e.g. an ActivationMonitor)")]
        return guards

    def _blocked(self, guards: list[tuple[str, str]]) -> list[str]:
        """`blocked()`: why a call may not be replayed, or None."""
        return (["def blocked():"] + [f"    if {c}: return {r!r}" for c, r in guards]
                + ["    return None"])

    def _ready(self, signature: tuple[Any, ...] | None,
               guards: list[tuple[str, str]]) -> list[str]:
        """`ready(args)`: True when a call with positional `args` (no keywords) may replay
        at once: the arguments match `signature` (`_signature`'s key of the recording),
        grad mode matches and no guard of `blocked()` holds. The jit's fast path; any False
        goes the general way (which also explains or records)."""
        lines = ["def ready(args):"]
        if signature is None:
            return lines + ["    return False"]
        values, names, grad_mode = signature
        if names:
            return lines + ["    return False"]
        lines.append(f"    if len(args) != {len(values)}: return False")
        for k, key in enumerate(values):
            a = f"args[{k}]"
            if key[0] == "A":
                kind = self._const(key[3], "kind") if len(key) > 3 else "ndarray"
                lines.append(f"    if type({a}) is not {kind} or {a}.shape != {key[1]!r} or "
                             f"{a}.dtype != {self._literal(key[2])}: return False")
            elif key[0] == "T":
                lines.append(f"    if not isinstance({a}, Tensor) or {a}.data.shape != "
                             f"{key[1]!r} or {a}.data.dtype != {self._literal(key[2])} or "
                             f"{a}.requires_grad is not {key[3]!r}: return False")
            elif key[0] == "V":
                lines.append(f"    if type({a}) is not {self._const(key[1], 'kind')} or "
                             f"{a} != {self._literal(key[2])}: return False")
            else:  # an object, by identity (the recording's arguments keep it alive)
                lines.append(f"    if {a} is not {self._const(self.args[k], 'arg')}: "
                             "return False")
        lines.append(f"    if grad_enabled() is not {grad_mode!r}: return False")
        return lines + [f"    if {c}: return False" for c, _ in guards] + ["    return True"]

    # ---- naming ---------------------------------------------------------------------------
    def _const(self, obj: Any, hint: str) -> str:
        """A name for `obj` in the tape's namespace."""
        name = self._names.get(id(obj))
        if name is None:
            name = hint if hint not in self.namespace else f"{hint}_{len(self._names)}"
            self._names[id(obj)] = name
            self.namespace[name] = obj
        return name

    def _literal(self, v: Any) -> str:
        """Source text for a Python value: a literal where exact, else a namespace name."""
        if v is None or isinstance(v, (bool, int, str)) and type(v) in (bool, int, str):
            return repr(v)
        if type(v) is float and math.isfinite(v):
            return repr(v)  # repr round-trips a float exactly
        if type(v) is tuple and all(type(e) in (int, bool) for e in v):
            return repr(v)
        if isinstance(v, np.dtype):
            return self._const(v, f"{v.name}")
        return self._const(v, "c")

    def _var(self, n: int) -> str:
        """Node n's variable, handed to code outside the tape (its buffer escapes)."""
        buffer = self.buffer_of.get(self.alias[n])
        if buffer is not None:
            self._escape(buffer)
        return f"v{self.alias[n]}"

    def _kvar(self, n: int) -> str:
        """Node n's variable, read by a kernel (stays inside the tape)."""
        return f"v{self.alias[n]}"

    def _tensor(self, n: int) -> str:
        kind = self.nodes[n]
        if kind[0] == "param":
            return self._const(kind[1], f"p{n}")
        if kind[0] == "arg" and isinstance(self.args[kind[1]], Tensor):
            return f"args[{kind[1]}]"
        return f"make({self._var(n)}, None)"

    def _value(self, ref: tuple[Any, ...]) -> str:
        what = ref[0]
        if what == "V":
            return self._literal(ref[1])
        if what == "A":
            return self._var(ref[1])
        if what == "T":
            return self._tensor(ref[1])
        if what == "argA":
            k = ref[1]
            return f"args[{k}].data" if isinstance(self.args[k], Tensor) else f"args[{k}]"
        return f"{self._const(ref[1], 'seq')}(({''.join(self._value(r) + ', ' for r in ref[2])}))"

    def _call_args(self, refs: tuple[Any, ...], krefs: dict[str, Any]) -> str:
        return ", ".join([self._value(r) for r in refs]
                         + [f"{k}={self._value(r)}" for k, r in krefs.items()])

    # ---- one method per kind of node and event --------------------------------------------
    def _load(self, n: int, kind: tuple[Any, ...]) -> list[str]:
        what = kind[0]
        if what == "param":
            return [f"v{n} = {self._const(kind[1], f'p{n}')}.data"]
        if what == "const":
            return [f"v{n} = {self._const(kind[1], f'c{n}')}"]
        if what in ("arg", "conv"):
            k = kind[1]
            arg = f"args[{k}].data" if isinstance(self.args[k], Tensor) else f"args[{k}]"
            if what == "arg":
                return [f"v{n} = {arg}"]
            return [f"v{n} = as_array({arg}, {self._literal(kind[2])})"]
        return []  # op outputs and effect results are assigned where they are computed

    def _op(self, i: int, cls: Any, ins: tuple[int, ...], refs: dict[str, Any], out: int,
            needs: tuple[bool, ...], recorded: bool) -> list[str]:
        kernel = self.kernel_of.get(i)
        if kernel is not None:
            buffer = self.buffer(self.arrays[out].shape, self.arrays[out].dtype, "out")
            self.buffer_of[out] = buffer
            lines = [self.check_line(buffer)]
            call = KernelCall(self, [self._kvar(n) for n in ins], refs, buffer,
                              [self.arrays[n] for n in ins], self.arrays[out], needs)
            self.kernel_calls[i] = call
            lines += kernel.forward(call)
            return lines + [f"{self._kvar(out)} = {buffer}"]
        ctx = Context(cls, (), recorded)  # reused by every replay: forward refills it
        ctx.needs_input_grad = needs
        ctx._output_version = _UNCHANGED
        c = self._const(ctx, f"ctx{i}")
        self.ctx_of[i] = c
        forward = self._const(cls.forward, f"{cls.op_name}_forward")
        call = ", ".join([c] + [self._var(n) for n in ins]
                         + [f"{k}={self._value(r)}" for k, r in refs.items()])
        v = self._var(out)
        return [f"{v} = {forward}({call})",
                f"if type({v}) is not ndarray: {v} = fix_scalar({c}, {v})"]

    def _backward(self, i: int, seeds: tuple[tuple[int, int], ...],
                  plan: tuple[Any, ...]) -> list[str]:
        """The engine's walk with its order, un-broadcasting and accumulation written out;
        see `gradients.py`."""
        return Gradients(self, seeds, plan).lines()

    def _effect(self, i: int, fn: Any, refs: tuple[Any, ...], krefs: dict[str, Any],
                out: int | None) -> list[str]:
        call = f"{self._const(fn, fn.__name__)}({self._call_args(refs, krefs)})"
        return [call if out is None else f"{self._var(out)} = {call}"]

    def _inplace(self, i: int, method: str, target: int, refs: tuple[Any, ...],
                 krefs: dict[str, Any]) -> list[str]:
        return [f"{self._tensor(target)}.{method}({self._call_args(refs, krefs)})"]

    def _set_grad(self, i: int, target: int, ref: tuple[Any, ...]) -> list[str]:
        return [f"{self._tensor(target)}.grad = {self._value(ref)}"]

    def _step(self, i: int, opt: Optimizer) -> list[str]:
        """`Optimizer.step` written out for these parameters: each parameter's change
        from `opt.update` first, then all of them added in place (the same two phases, so
        an error half way still changes nothing); its shape and dtype checks hold by
        construction (the tape's gradients have their parameter's shape and dtype).

        Plain SGD (no momentum or weight decay in any group, float learning rates, checked
        on every replay since a scheduler may change them) is written as its numpy calls:
        the change `grad * -lr`, into a buffer when the gradient is the tape's own."""
        o = self._const(opt, type(opt).__name__.lower())
        self.namespace["NO_STATE"] = _NO_STATE
        generic = [f"state = {o}.state"]
        plain = [f"state = {o}.state"]
        changes, conditions = [], []
        for g, group in enumerate(opt.param_groups):
            grp = self._const(group, f"{o}_group{g}")
            conditions.append(f"not ({grp}['momentum'] or {grp}['weight_decay']) and "
                              f"type({grp}['lr']) is float")
            plain.append(f"lr{g} = -{grp}['lr']")
            for p in group["params"]:
                t = self._const(p, f"{o}_param{len(changes)}")
                k = len(changes)
                key = self._const(id(p), f"key_{t}")  # the optimizer's state is keyed by id
                generic += [f"grad = {t}.grad",
                            f"if grad is not None: change{k}, state{k} = {o}.update({t}.data, "
                            f"grad.data, state.get({key}, NO_STATE), {grp})",
                            f"else: change{k} = None"]
                own = self.grad_buffers.get(id(p))
                if own is None:
                    plain += [f"grad = {t}.grad",
                              f"change{k} = None if grad is None else np.multiply(grad.data, "
                              f"lr{g})"]
                else:
                    scratch = self.buffer(p.data.shape, p.data.dtype, "change")
                    plain += [f"grad = {t}.grad",
                              f"if grad is None: change{k} = None",
                              f"elif grad.data is {own}: change{k} = np.multiply({own}, lr{g}, "
                              f"out={scratch})",
                              f"else: change{k} = np.multiply(grad.data, lr{g})"]
                changes.append((k, t, key))
        adds = []
        for k, t, key in changes:
            adds += [f"if change{k} is not None:",
                     f"    np.add({t}.data, change{k}, out={t}.data, casting='unsafe')",
                     f"    {t}._version[0] += 1",
                     f"    if state{k} or {key} in state: state[{key}] = state{k}"]
        adds.append("bump_inplace_epoch()")  # (as Optimizer.step: saved-buffer checks rely on it)
        commit = self.quiet(_COMMIT_QUIET, adds)
        if type(opt) is not SGD or type(opt).update is not SGD.update:
            return generic + commit
        plain += [f"state{k} = {{}}" for k, _, _ in changes]
        return ([f"if {' and '.join(conditions)}:"] + ["    " + line for line in plain]
                + ["else:"] + ["    " + line for line in generic] + commit)

    def _zero_grad(self, i: int, opt: Any, set_to_none: bool) -> list[str]:
        if set_to_none:  # what zero_grad does for the parameters the guards checked
            return [f"{self._const(p, 'p')}.grad = None" for p in opt._all_params()]
        return [f"{self._const(opt, type(opt).__name__.lower())}.zero_grad({set_to_none!r})"]

    def _result(self, ref: Any) -> str:
        what = ref[0]
        if what == "T":
            return self._tensor(ref[1])
        if what == "seq":
            items = "".join(self._result(r) + ", " for r in ref[2])
            return f"({items})" if ref[1] is tuple else f"[{items}]"
        if what == "dict":
            return "{" + ", ".join(f"{k!r}: {self._result(r)}" for k, r in ref[1]) + "}"
        return self._literal(ref[1])


def _fix_scalar(ctx: Context, value: Any) -> np.ndarray:
    """A forward returned a numpy scalar (a 0-d result): make it an array, in what the
    context saved too, as `Function.apply` does."""
    array = np.asarray(value)
    if ctx._saved:
        ctx._saved = tuple([array if s is value else s for s in ctx._saved])
    return array


def _sole_owner_count() -> int:
    """What `getrefcount` reports, inside a generated function, for a global array nothing
    else holds (2 on CPython 3.11: the namespace and the call's argument; measured rather
    than assumed, since interpreters differ in counting borrowed arguments)."""
    namespace = {"getrefcount": sys.getrefcount, "probe": np.empty(1)}
    exec(compile("def count():\n    return getrefcount(probe)", "<tg.jit probe>", "exec"),  # noqa: S102
         namespace)
    return namespace["count"]()


def _array_of(obj: Any) -> Any:
    """The array a recorded node stands for (a Tensor's data, or the array itself)."""
    return obj.data if isinstance(obj, Tensor) else obj
