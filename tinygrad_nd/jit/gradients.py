"""The backward pass of a tape: the engine's walk written out as straight-line code.

The recording fixed the order (`engine.backward_order`), which op's backward runs, where each
gradient goes and where the engine un-broadcasts, casts and accumulates. What is left to
decide on each replay is only what the eager engine decides from values, not structure;
everything else is settled here, while the source is written:

* whether a gradient variable is still None at a given line is known from the order
  (`state`), so kernel code needs no None checks where the walk guarantees a value;
* a gradient a kernel computed lives in that kernel's buffer (`holder`) until code outside
  the tape sees it; a parameter's `.grad` then wraps the buffer itself, and the buffer is
  reused by the next replay unless the user still holds that gradient (see `tape.py`).
"""

from __future__ import annotations

from typing import Any

_SET, _MAYBE = "set", "maybe"  # a gradient variable surely holds an array / may be None


class Gradients:
    """Source lines for one `backward()` event of a recording."""

    def __init__(self, tape: Any, seeds: tuple[tuple[int, int], ...],
                 plan: tuple[Any, ...]) -> None:
        self.t, self.seeds, self.plan = tape, seeds, plan
        self.state: dict[int, str] = {}  # gradient variable -> _SET or _MAYBE (absent: None)
        self.holder: dict[int, str] = {}  # gradient variable -> the kernel buffer it holds
        self.lazy: dict[int, tuple[str, str, list[str]]] = {}  # see `_kernel`
        self.generic_ops = self.generic_leaves = self.fast_leaves = False

    def lines(self) -> list[str]:
        t = self.t
        names = sorted({n for n, *_ in self.plan} | {r for r, _ in self.seeds}
                       | {x for *_, targets in self.plan for _, x, *_ in targets})
        head = [" = ".join(f"g{n}" for n in names) + " = None"]
        for r, s in self.seeds:  # as the engine: grads[r] = g if r not in grads else + g
            head.append(f"g{r} = g{r} + {t._var(s)}" if r in self.state else
                        f"g{r} = {t._var(s)}")
            self.state[r] = _SET
        body = []
        for n, k, bwd, name, targets in self.plan:
            if k is None:
                body += self._leaf(n)
            elif k in t.kernel_of:
                body += self._kernel(n, k, targets)
            else:
                body += self._generic(n, k, bwd, name, targets)
        if self.generic_leaves:
            head.append("stored = {" + ", ".join(f"id({t._var(s)})" for _, s in self.seeds)
                        + "}")
        after = []
        if self.generic_ops:  # an op's own backward may look at grad mode, as in the engine
            head += ["previous_mode = grad_enabled()", "set_grad_mode(False)"]
            after.append("set_grad_mode(previous_mode)")
        if self.fast_leaves:  # the engine's lock, taken once for the pass's `.grad` writes
            head.append("engine_lock.acquire()")
            after.append("engine_lock.release()")
        from .tape import BACKWARD_QUIET

        return head + t.quiet(BACKWARD_QUIET, body or ["pass"], "backward_token", tuple(after))

    def _seen_outside(self, n: int) -> None:
        """Gradient variable n is handed to code outside the tape."""
        buffer = self.holder.pop(n, None)
        if buffer is not None:
            self.t._escape(buffer)

    def _materialize(self, n: int) -> list[str]:
        """Write out a gradient kept as its 0-d source (see `_kernel`), if it is one."""
        if n not in self.lazy:
            return []
        source, buffer, computed = self.lazy.pop(n)
        self.holder[n] = buffer
        return [self.t.check_line(buffer)] + computed + [f"g{n} = {buffer}"]

    def _leaf(self, n: int) -> list[str]:
        if n not in self.state:
            return []  # no gradient reaches it
        materialized = self._materialize(n)
        return materialized + self._accumulate(n)

    def _accumulate(self, n: int) -> list[str]:
        t = self.t
        tensor = t._tensor(n)
        buffer = self.holder.get(n)
        if buffer is None or self.state[n] != _SET:
            self._seen_outside(n)
            self.generic_leaves = True
            return [f"if g{n} is not None: accumulate({tensor}, g{n}, False, stored)"]
        self._seen_outside(n)  # `.grad` wraps the kernel's buffer: what _accumulate_grad does
        kind = t.nodes[n]
        if kind[0] == "param":
            t.grad_buffers[id(kind[1])] = buffer
        self.fast_leaves = True
        return [f"grad = {tensor}.grad",
                f"{tensor}.grad = make({buffer}, None) if grad is None else "
                f"make(grad.data + {buffer}, None)"]

    def _kernel(self, n: int, k: int, targets: tuple[Any, ...]) -> list[str]:
        if n not in self.state:
            return []
        t = self.t
        kernel = t.kernel_of[k]
        wrapped = self.state[n] == _MAYBE
        g, lines = f"g{n}", []
        if n in self.lazy and getattr(kernel, "broadcasts_gradient", False):
            g = self.lazy.pop(n)[0]  # g * y with a 0-d g: the products of the filled array
        else:
            lines += self._materialize(n)
        grads = kernel.backward(t.kernel_calls[k], g)
        target_of = {pos: x for pos, x, *_ in targets}
        body = []
        for pos, computed, buffer in grads:
            x = target_of[pos]
            before = self.state.get(x)
            if before is None and not wrapped and getattr(kernel, "spreads_gradient", False):
                # A 0-d gradient filled into the input's shape: kept as its source until a
                # consumer needs the array (an elementwise kernel broadcasts it instead).
                self.lazy[x] = (g, buffer, computed)
                self.state[x] = _SET
                continue
            body += self._materialize(x) + [t.check_line(buffer)] + computed
            if before is None:
                body.append(f"g{x} = {buffer}")
            elif before == _SET:  # as the engine: gi = g + gi
                body.append(f"g{x} = np.add(g{x}, {buffer}, out={buffer})")
            else:
                body.append(f"g{x} = {buffer} if g{x} is None else "
                            f"np.add(g{x}, {buffer}, out={buffer})")
            self.state[x] = _SET if before == _SET or not wrapped else _MAYBE
            if self.state[x] == _SET:
                self.holder[x] = buffer
            else:
                self.holder.pop(x, None)
        if wrapped:
            return lines + [f"if g{n} is not None:"] + ["    " + line for line in body]
        return lines + body

    def _generic(self, n: int, k: int, bwd: Any, name: str, targets: tuple[Any, ...]) -> list[str]:
        """The op's own backward on its context, then the engine's per-input steps."""
        t = self.t
        self.generic_ops = True
        body = self._materialize(n)
        self._seen_outside(n)
        fn = t._const(bwd, f"{name}_{bwd.__name__}")
        body += [f"if g{n} is not None:", f"    grads = {fn}({t.ctx_of[k]}, g{n})"]
        for pos, x, shape, dtype in targets:
            d = t._literal(dtype)
            body += ["    " + line for line in self._materialize(x)]
            self._seen_outside(x)
            body += [f"    gi = grads[{pos}]",
                     "    if gi is not None:",
                     f"        if gi.shape != {shape!r}: gi = unbroadcast(gi, {shape!r}, "
                     f"{name!r})",
                     f"        if gi.dtype != {d}: gi = gi.astype({d})",
                     f"        if g{x} is not None: gi = g{x} + gi",
                     "        if type(gi) is not ndarray: gi = asarray(gi)",
                     f"        g{x} = gi"]
            self.state[x] = _SET if self.state.get(x) == _SET else _MAYBE
        return body
