"""Finite-difference checks of gradients: `gradcheck` and `gradgradcheck`.

Both compare full Jacobians in float64: the analytic one row by row with the engine (one
backward per output element over a retained graph), the numeric one column by column with
central differences. Failures name the input, the element and the two values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .tensor import Tensor

Fn = Callable[..., Any]


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def _outputs(result: Any, where: str) -> list[Tensor]:
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{where}: the function must return Tensors, got {type(o).__name__}")
    return outs


def _float64_inputs(inputs: Any) -> list[Tensor]:
    items = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    prepared = []
    for t in items:
        if isinstance(t, Tensor) and t.requires_grad:
            prepared.append(Tensor(t.data, dtype=np.float64, requires_grad=True))
        else:
            prepared.append(t)
    return prepared


def _flat_outputs(fn: Fn, inputs: Sequence[Any]) -> np.ndarray:
    # fn runs with grad mode on: gradgradcheck's fn differentiates internally.
    outs = _outputs(fn(*inputs), "gradcheck")
    return np.concatenate([o.data.reshape(-1).astype(np.float64) for o in outs])


def numerical_jacobians(fn: Fn, inputs: Sequence[Any], eps: float = 1e-6) -> list[np.ndarray]:
    """Central-difference Jacobians, one (outputs, input elements) matrix per grad input.

    Parameters
    ----------
    fn : callable
        Takes the inputs, returns a Tensor (or a tuple of Tensors).
    inputs : sequence
        The inputs; a Jacobian is computed for each Tensor with `requires_grad`, by
        perturbing its data in place (restored afterwards).
    eps : float
        Half the step of the central differences.
    """
    jacobians = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        flat = t.data.reshape(-1)  # a view: perturbing it perturbs the input
        columns = []
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = _flat_outputs(fn, inputs)
            flat[k] = original - eps
            minus = _flat_outputs(fn, inputs)
            flat[k] = original
            columns.append((plus - minus) / (2 * eps))
        jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((0, 0)))
    return jacobians


def analytical_jacobians(fn: Fn, inputs: Sequence[Any]) -> list[np.ndarray]:
    """Engine Jacobians, one (outputs, input elements) matrix per grad input.

    Parameters
    ----------
    fn : callable
        Takes the inputs, returns a Tensor (or a tuple of Tensors).
    inputs : sequence
        The inputs; a Jacobian is computed for each Tensor with `requires_grad`, one
        backward pass per output element.
    """
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    outs = _outputs(fn(*inputs), "gradcheck")
    total = sum(o.size for o in outs)
    jac = [np.zeros((total, t.size)) for t in wrt]
    row = 0
    for o in outs:
        for k in range(o.size):
            if o.requires_grad:
                seed = np.zeros(o.size, dtype=o.dtype)
                seed[k] = 1
                grads = engine.grad(o, wrt, Tensor(seed.reshape(o.shape), dtype=o.dtype),
                                      retain_graph=True, allow_unused=True)
                for j, gr in enumerate(grads):
                    if gr is not None:
                        jac[j][row] = gr.data.reshape(-1)
            row += 1
    return jac


def gradcheck(fn: Fn, inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check the engine's gradients of `fn` against central differences, in float64.

    Parameters
    ----------
    fn : callable
        Takes the inputs, returns a Tensor (or a tuple of Tensors).
    inputs : Tensor or sequence
        The inputs; those with `requires_grad` are checked (converted to float64 copies).
    eps, atol, rtol : float
        Step of the differences; element `a` (analytic) passes when
        `|a - n| <= atol + rtol * |n|` for numeric `n`.
    raise_exception : bool
        Raise `GradcheckError` naming the worst element instead of returning False.

    Examples
    --------
    >>> import numpy as np, tinygrad_nd as tg
    >>> a = tg.Tensor(np.random.randn(3, 2), dtype=np.float64, requires_grad=True)
    >>> b = tg.Tensor(np.random.randn(2, 4), dtype=np.float64, requires_grad=True)
    >>> tg.gradcheck(lambda a, b: (a @ b).tanh().sum(), (a, b))
    True
    """
    inputs = _float64_inputs(inputs)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError("gradcheck: no input has requires_grad=True")
    analytic = analytical_jacobians(fn, inputs)
    numeric = numerical_jacobians(fn, inputs, eps)
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for pos, a, n in zip(positions, analytic, numeric):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and (excess.max() > 0 or not np.isfinite(a).all()):
            out_k, in_k = np.unravel_index(np.nanargmax(np.where(np.isfinite(a), excess, np.inf)),
                                           excess.shape)
            element = np.unravel_index(in_k, inputs[pos].shape)
            message = (f"gradcheck: gradient of input {pos} (shape {inputs[pos].shape}) is wrong: "
                       f"worst at element {tuple(int(e) for e in element)} for output element "
                       f"{int(out_k)}: analytic {a[out_k, in_k]:.8g} vs numeric "
                       f"{n[out_k, in_k]:.8g} (atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(fn: Fn, inputs: Any, grad_outputs: Any = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of `v -> d<fn(x), v>/dx` built with create_graph.

    Parameters
    ----------
    fn : callable
        Takes the inputs, returns a Tensor (or a tuple of Tensors).
    inputs : Tensor or sequence
        The inputs; those with `requires_grad` are checked (converted to float64 copies).
    grad_outputs : array, Tensor or sequence, optional
        The vectors `v`, one per output; by default random float64 tensors (from `seed`)
        shaped like the outputs.
    eps, atol, rtol : float
        As in `gradcheck`.
    raise_exception : bool
        Raise `GradcheckError` naming the worst element instead of returning False.
    seed : int
        Seed of the random `grad_outputs`.

    Examples
    --------
    >>> import numpy as np, tinygrad_nd as tg
    >>> x = tg.Tensor(np.random.rand(3) + 0.5, dtype=np.float64, requires_grad=True)
    >>> tg.gradgradcheck(lambda x: (x * x).log(), (x,))
    True
    """
    inputs = _float64_inputs(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        outs = _outputs(fn(*inputs), "gradgradcheck")
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=np.float64,
                               requires_grad=True) for o in outs]
    else:
        grad_outputs = _float64_inputs([g if isinstance(g, Tensor) else Tensor(g)
                                        for g in _outputs_or_list(grad_outputs)])
        for g in grad_outputs:
            g.requires_grad_(True)
    n_in = len(inputs)

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        xs, vs = args[:n_in], args[n_in:]
        live = [t for t in xs if isinstance(t, Tensor) and t.requires_grad]
        grads = engine.grad(_outputs(fn(*xs), "gradgradcheck"), live, list(vs),
                              create_graph=True, allow_unused=True)
        # An unused input has a zero first derivative; keep it in the graph via x * 0.
        return tuple(g if g is not None else t * 0.0 for g, t in zip(grads, live))

    return gradcheck(first_derivatives, [*inputs, *grad_outputs], eps, atol, rtol,
                     raise_exception)


def _outputs_or_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (tuple, list)) else [value]
