"""`assert_grad_close`: compare the engine's gradient with a numeric one, three ways."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import engine
from ..gradcheck import GradcheckError
from ..tensor import Tensor

MODES = ("central", "complex_step", "random_direction")


def _scalar_objective(fn: Callable[..., Any], upstream: list[np.ndarray]) -> Callable[..., Tensor]:
    """L(x) = sum_k <fn(x)_k, G_k> with fixed random G: a random g catches transposition and
    broadcasting mistakes that `sum()` would let cancel out."""

    def objective(*xs: Any) -> Tensor:
        outs = fn(*xs)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        total = None
        for o, g in zip(outs, upstream):
            weights = Tensor._make(g.astype(o.dtype) if o.dtype.kind == "c" else g, None)
            term = (o * weights).sum()
            total = term if total is None else total + term
        return total  # type: ignore[return-value]

    return objective


def _moved(t: Tensor, values: np.ndarray) -> Tensor:
    """A perturbed copy of input `t` that still requires grad (fn may differentiate)."""
    if values.dtype.kind == "c":
        # The complex step is the one place complex values exist: the public constructors
        # refuse them, so the tensor is built directly.
        moved = Tensor._make(values, None)
        moved.requires_grad = True
        return moved
    return Tensor(values, dtype=values.dtype, requires_grad=True)


def _evaluate(objective: Callable[..., Tensor], inputs: Sequence[Any]) -> Any:
    # Grad mode stays on: the function under test may differentiate internally. An op that
    # drops the imaginary part (numpy's ComplexWarning) would make the complex step silently
    # zero, so that warning becomes an error here.
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        return objective(*inputs).data.item()


def assert_grad_close(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    mode: str = "central",
    eps: float | None = None,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    seed: int = 0,
) -> None:
    """Assert that the engine's vector-Jacobian products of `fn` match numeric ones.

    Parameters
    ----------
    fn : callable
        Maps the inputs to a Tensor (or tuple of Tensors).
    inputs : sequence
        Tensors (float64 recommended) and other arguments; those with `requires_grad`
        are checked.
    mode : {"central", "complex_step", "random_direction"}
        `central`: central differences per element (O(eps**2) error).
        `complex_step`: Im f(x + ih)/h, exact to rounding for analytic functions (no
        abs/relu/max, and every op must accept complex input).
        `random_direction`: one directional derivative along a random direction, two
        forward passes whatever the input size; for big models.
    eps, atol, rtol : float
        Step (defaults: 1e-6, 1e-20, 1e-6 by mode) and tolerances.
    seed : int
        Seed of the random upstream gradient and direction.

    Raises
    ------
    GradcheckError
        Naming the input and element (or the direction) that disagrees.
    """
    if mode not in MODES:
        raise ValueError(f"assert_grad_close: mode must be one of {MODES}, got {mode!r}")
    rng = np.random.default_rng(seed)
    outs = fn(*inputs)
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    upstream = [rng.standard_normal(o.shape) for o in outs]
    objective = _scalar_objective(fn, upstream)
    wrt = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("assert_grad_close: no input has requires_grad=True")
    grads = engine.grad(objective(*inputs), [t for _, t in wrt], allow_unused=True)
    analytic = [np.zeros(t.shape) if g is None else g.data.astype(np.float64)
                for g, (_, t) in zip(grads, wrt)]

    if mode == "random_direction":
        step = 1e-6 if eps is None else eps
        directions = [rng.standard_normal(t.shape) for _, t in wrt]
        shifted = []
        for sign in (1, -1):
            moved = list(inputs)
            for (i, t), d in zip(wrt, directions):
                moved[i] = _moved(t, t.data + sign * step * d.astype(t.dtype))
            shifted.append(_evaluate(objective, moved))
        numeric = (shifted[0] - shifted[1]) / (2 * step)
        predicted = sum(float((a * d).sum()) for a, d in zip(analytic, directions))
        if abs(predicted - numeric) > atol + rtol * abs(numeric):
            raise GradcheckError(f"assert_grad_close(random_direction): directional derivative "
                                 f"from the engine {predicted:.10g} vs numeric {numeric:.10g}")
        return

    for (i, t), a in zip(wrt, analytic):
        numeric = np.zeros(t.shape)
        base = t.data.astype(np.complex128) if mode == "complex_step" else t.data.copy()
        flat = base.reshape(-1)
        for k in range(flat.size):
            moved = list(inputs)
            original = flat[k]
            if mode == "complex_step":
                step = 1e-20 if eps is None else eps
                flat[k] = original + 1j * step
                moved[i] = _moved(t, base)
                numeric.reshape(-1)[k] = np.imag(_evaluate(objective, moved)) / step
            else:
                step = 1e-6 if eps is None else eps
                values = []
                for sign in (1, -1):
                    flat[k] = original + sign * step
                    moved[i] = _moved(t, base)
                    values.append(_evaluate(objective, moved))
                numeric.reshape(-1)[k] = (values[0] - values[1]) / (2 * step)
            flat[k] = original
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if bad.any() or not np.isfinite(a).all():
            worst = np.unravel_index(np.argmax(np.abs(a - numeric)), a.shape) if a.ndim else ()
            raise GradcheckError(
                f"assert_grad_close({mode}): gradient of input {i} (shape {t.shape}) differs at "
                f"element {tuple(int(w) for w in worst)}: analytic {a[worst]:.10g} vs numeric "
                f"{numeric[worst]:.10g} ({int(bad.sum())} of {bad.size} elements off)")
