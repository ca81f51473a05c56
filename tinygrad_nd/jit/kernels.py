"""Inline numpy for the ops of a typical training step: what the tape writes instead of calling
an op's `forward` and `backward`.

A generic tape line calls the op's `forward(ctx, ...)` and later its `backward(ctx, g)`: the
numpy work plus the op's Python (argument checks, the context, fresh result arrays). For the
ops that dominate small training steps (linear, matmul, sigmoid, tanh, relu, sum,
cross-entropy) a *kernel* writes the op's numpy calls straight into the tape, each result
going into a buffer allocated once (`out=`). A kernel restates its op's numpy calls one for
one (same functions, same operands, same order), so the numbers are the op's bit for bit;
`tests/test_jit_buffers.py` compares every kernel with its op. A kernel applies only to the
shapes and dtypes it was written for (`accepts`); any other case keeps the generic call.

Each kernel has three methods, called by the tape while it writes its source:

* `accepts(arrays, refs, needs)`: whether it handles this call (recorded input arrays, the
  op's keyword parameters, which inputs need a gradient);
* `forward(c)`: source lines computing the output into the buffer named `c.out`;
* `backward(c, g)`: for each input needing a gradient, `(position, lines, buffer)`: lines
  writing that input's gradient into `buffer`, from the gradient variable named `g`.

`c` is the `KernelCall`: the tape (`c.tape.buffer(shape, dtype, hint)` names a new buffer,
`c.tape.const(value, hint)` a constant), the inputs' variable names and recorded arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops.activation import ReLU, Sigmoid, Tanh
from ..ops.blocked_gemm import SMALL_GEMM_WORK
from ..ops.fused import CrossEntropy, Linear
from ..ops.linalg import MatMul
from ..ops.reduce import Sum

Lines = list[str]
Grads = list[tuple[int, Lines, str]]


@dataclass
class KernelCall:
    """One op call written by a kernel: what its forward and backward lines refer to."""

    tape: Any
    ins: list[str]  # the inputs' variable names in the tape
    refs: dict[str, Any]  # the op's keyword parameters, as recorded
    out: str  # the output's buffer
    arrays: list[np.ndarray]  # the inputs' recorded arrays (shapes, dtypes)
    result: np.ndarray  # the recorded output
    needs: tuple[bool, ...]  # which inputs need a gradient
    state: dict[str, str] = field(default_factory=dict)  # what the forward tells the backward

    def grad_buffer(self, k: int | None = None, hint: str = "grad") -> str:
        """A buffer shaped like input k (None: like the output)."""
        like = self.result if k is None else self.arrays[k]
        return self.tape.buffer(like.shape, like.dtype, hint)


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the dtypes the tests cover


def _floats(*arrays: np.ndarray) -> bool:
    """All of one dtype, float32 or float64 (so no op promotes or casts)."""
    dtype = arrays[0].dtype
    return dtype in _KERNEL_DTYPES and all(a.dtype == dtype for a in arrays)


class LinearKernel:
    """`Linear.forward`: matmul(x, w.T) then += b; backward g @ w, g.T @ x, g.sum(axis=0)."""

    def accepts(self, arrays: list[np.ndarray], refs: dict[str, Any], needs: tuple) -> bool:
        x, w, b = arrays
        return (not refs and _floats(x, w, b) and x.ndim == 2 and w.ndim == 2
                and b.shape == (w.shape[0],) and x.shape[1] == w.shape[1])

    def forward(self, c: KernelCall) -> Lines:
        x, w, b = c.ins
        # the product `Linear` chooses for these sizes (its three take the same work)
        big = c.arrays[0].size * c.arrays[1].shape[0] > SMALL_GEMM_WORK
        c.state["product"] = product = "matmul_in_blocks" if big else "np.matmul"
        return [f"{product}({x}, {w}.T, out={c.out})", f"np.add({c.out}, {b}, out={c.out})"]

    def backward(self, c: KernelCall, g: str) -> Grads:
        x, w, _ = c.ins
        product = c.state["product"]
        grads = []
        for pos, make in ((0, lambda o: f"{product}({g}, {w}, out={o})"),
                          (1, lambda o: f"{product}({g}.T, {x}, out={o})"),
                          (2, lambda o: f"np.add.reduce({g}, axis=0, out={o})")):
            if c.needs[pos]:
                o = c.grad_buffer(pos)
                grads.append((pos, [make(o)], o))
        return grads


class MatMulKernel:
    """`MatMul` of two matrices: a @ b; backward g @ b.T and a.T @ g."""

    def accepts(self, arrays: list[np.ndarray], refs: dict[str, Any], needs: tuple) -> bool:
        a, b = arrays
        return (not refs and _floats(a, b) and a.ndim == 2 and b.ndim == 2
                and a.shape[1] == b.shape[0])

    def forward(self, c: KernelCall) -> Lines:
        return [f"np.matmul({c.ins[0]}, {c.ins[1]}, out={c.out})"]

    def backward(self, c: KernelCall, g: str) -> Grads:
        a, b = c.ins
        grads = []
        for pos, make in ((0, lambda o: f"np.matmul({g}, {b}.T, out={o})"),
                          (1, lambda o: f"np.matmul({a}.T, {g}, out={o})")):
            if c.needs[pos]:
                o = c.grad_buffer(pos)
                grads.append((pos, [make(o)], o))
        return grads


class ElementwiseKernel:
    """An activation of a floating array (not 0-d) whose backward multiplies g elementwise:
    a 0-d g broadcasts as the filled array would (see `gradients.py`)."""

    broadcasts_gradient = True

    def accepts(self, arrays: list[np.ndarray], refs: dict[str, Any], needs: tuple) -> bool:
        return not refs and _floats(arrays[0]) and arrays[0].ndim > 0


class SigmoidKernel(ElementwiseKernel):
    """`stable_sigmoid`: negative, exp (overflow silenced), += 1, reciprocal; backward
    `sigmoid_vjp`: g * s * (1 - s)."""

    def forward(self, c: KernelCall) -> Lines:
        out = c.out
        return ([f"np.negative({c.ins[0]}, out={out})"]
                + c.tape.quiet(_IGNORE_OVER, [f"np.exp({out}, out={out})"])
                + [f"np.add({out}, 1, out={out})", f"np.reciprocal({out}, out={out})"])

    def backward(self, c: KernelCall, g: str) -> Grads:
        o, one_minus, out = c.grad_buffer(), c.grad_buffer(hint="scratch"), c.out
        return [(0, [f"np.multiply({g}, {out}, out={o})",
                     f"np.subtract(1, {out}, out={one_minus})",
                     f"np.multiply({o}, {one_minus}, out={o})"], o)]


class TanhKernel(ElementwiseKernel):
    """`np.tanh`; backward `tanh_vjp`: g * (1 - t * t)."""

    def forward(self, c: KernelCall) -> Lines:
        return [f"np.tanh({c.ins[0]}, out={c.out})"]

    def backward(self, c: KernelCall, g: str) -> Grads:
        o, out = c.grad_buffer(), c.out
        return [(0, [f"np.multiply({out}, {out}, out={o})", f"np.subtract(1, {o}, out={o})",
                     f"np.multiply({g}, {o}, out={o})"], o)]


class ReLUKernel(ElementwiseKernel):
    """`np.maximum(x, 0)`; backward (out > 0) as g's dtype, times g."""

    def forward(self, c: KernelCall) -> Lines:
        return [f"np.maximum({c.ins[0]}, 0, out={c.out})"]

    def backward(self, c: KernelCall, g: str) -> Grads:
        o, out = c.grad_buffer(), c.out
        mask = c.tape.buffer(c.result.shape, np.dtype(bool), "mask")
        return [(0, [f"np.greater({out}, 0, out={mask})", f"np.copyto({o}, {mask})",
                     f"np.multiply({o}, {g}, out={o})"], o)]


class SumKernel:
    """`Sum` over every axis (no keepdims): x.sum() with inf - inf silenced; backward fills
    the input's shape with g."""

    spreads_gradient = True  # its backward only fills the input's shape with g

    def accepts(self, arrays: list[np.ndarray], refs: dict[str, Any], needs: tuple) -> bool:
        return (_floats(arrays[0]) and arrays[0].ndim > 0
                and set(refs) <= {"axis", "keepdims"}
                and refs.get("axis", ("V", None)) == ("V", None)
                and refs.get("keepdims", ("V", False)) == ("V", False))

    def forward(self, c: KernelCall) -> Lines:
        axes = tuple(range(c.arrays[0].ndim))
        return c.tape.quiet(_IGNORE_INVALID,
                            [f"np.add.reduce({c.ins[0]}, axis={axes!r}, out={c.out})"])

    def backward(self, c: KernelCall, g: str) -> Grads:
        o = c.grad_buffer(0)
        return [(0, [f"np.copyto({o}, {g})"], o)]


class CrossEntropyKernel:
    """`CrossEntropy.forward` (labels checked, the shifted logits' exp, the probabilities kept)
    and `backward_arrays` (probabilities minus one-hot, times g / N)."""

    def accepts(self, arrays: list[np.ndarray], refs: dict[str, Any], needs: tuple) -> bool:
        x, target = arrays
        return (not refs and _floats(x) and x.ndim == 2 and len(x) > 0 and target.ndim == 1
                and target.dtype.kind in "iu" and len(target) == len(x) and not needs[1])

    def forward(self, c: KernelCall) -> Lines:
        from ..ops._util import check_class_indices

        t, (x, target), out = c.tape, c.ins, c.out
        n, classes = c.arrays[0].shape
        dtype = c.arrays[0].dtype
        rows = t.const(np.arange(n), "rows")
        inverse = t.const(dtype.type(1.0 / n), "inverse_count")  # `_inverse_count`
        shifted, probs = (t.buffer((n, classes), dtype, hint) for hint in ("shifted", "probs"))
        lines = [f"{t.const(check_class_indices, 'check_class_indices')}({target}, {classes}, "
                 "'cross_entropy')"]
        # `reduce_keepdims` chooses its branch from the shape alone: the same one here.
        if classes <= 32 and n >= 4 * classes:
            by_column = "np.{}.reduce(np.ascontiguousarray({}.T), axis=0)[:, None]"
            lines += [f"peak = {by_column.format('maximum', x)}",
                      f"np.subtract({x}, peak, out={shifted})",
                      f"np.exp({shifted}, out={probs})",
                      f"total = {by_column.format('add', probs)}"]
        else:
            peak, total = (t.buffer((n, 1), dtype, hint) for hint in ("peak", "total"))
            lines += [f"np.maximum.reduce({x}, axis=1, keepdims=True, out={peak})",
                      f"np.subtract({x}, {peak}, out={shifted})",
                      f"np.exp({shifted}, out={probs})",
                      f"total = np.add.reduce({probs}, axis=1, keepdims=True, out={total})"]
        lines += [f"picked = {shifted}[{rows}, {target}]",
                  f"np.divide({probs}, total, out={probs})",
                  f"{out}[()] = (np.log(total).sum() - picked.sum()) * {inverse}"]
        c.state.update(probs=probs, rows=rows, inverse=inverse)
        return lines

    def backward(self, c: KernelCall, g: str) -> Grads:
        probs, rows, inverse = c.state["probs"], c.state["rows"], c.state["inverse"]
        o, target = c.grad_buffer(0), c.ins[1]
        return [(0, [f"np.copyto({o}, {probs})", f"{o}[{rows}, {target}] -= 1",
                     f"np.multiply({o}, {g} * {inverse}, out={o})"], o)]


def _ignoring(**kinds: str) -> Any:
    from ..fpstate import Ignoring

    return Ignoring(**kinds)


_IGNORE_OVER = _ignoring(over="ignore")  # stable_sigmoid's e**-x overflow (exactly 0 after)
_IGNORE_INVALID = _ignoring(invalid="ignore")  # Sum's inf + -inf

KERNELS: dict[type, Any] = {Linear: LinearKernel(), MatMul: MatMulKernel(),
                            Sigmoid: SigmoidKernel(), Tanh: TanhKernel(), ReLU: ReLUKernel(),
                            Sum: SumKernel(), CrossEntropy: CrossEntropyKernel()}
