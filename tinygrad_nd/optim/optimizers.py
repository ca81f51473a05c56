"""SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's update rules and defaults."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import BOOL, Optimizer, State

INF = float("inf")
NONNEG = (0.0, INF, False)      # [0, inf)
UNIT_OPEN = (0.0, 1.0, False)   # [0, 1)
UNIT_CLOSED = (0.0, 1.0, True)  # [0, 1]


def _l2(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    """Coupled weight decay: the gradient of (weight_decay / 2) * ||w||**2 added to g."""
    return grad + weight_decay * param if weight_decay else grad


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    `w <- w - lr * (g + weight_decay * w)` (plus momentum). Nielsen's L2-regularised rule
    `w <- (1 - eta*lambda/n) w - eta * g` is `SGD(lr=eta, weight_decay=lambda/n)`.

    Parameters
    ----------
    params : iterable
        Tensors to optimise, or dicts of them (`"params"`) with per-group hyper-parameters.
    lr : float
        The learning rate.
    momentum : float
        Momentum factor in [0, 1); 0 is plain SGD.
    dampening : float
        Fraction of the gradient left out of the momentum buffer.
    weight_decay : float
        L2 penalty: `weight_decay * w` is added to the gradient.
    nesterov : bool
        Nesterov momentum (needs momentum > 0 and no dampening).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import optim
    >>> w = tg.ones(2, requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w.tolist()
    [0.800000011920929, 0.800000011920929]
    """

    rules = dict(lr=NONNEG, momentum=UNIT_OPEN, dampening=UNIT_CLOSED, weight_decay=NONNEG,
                 nesterov=BOOL)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, group, op=""):
        super()._check_group(group, op)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{op or 'SGD'}: Nesterov momentum needs momentum > 0 and "
                             f"dampening = 0, got momentum={group['momentum']}, "
                             f"dampening={group['dampening']}")

    def update(self, param, grad, state, group):
        if not (group["momentum"] or group["weight_decay"]):  # plain SGD, the hot path
            return np.multiply(grad, -group["lr"]), {}
        d = _l2(grad, param, group["weight_decay"])
        new_state: State = {}
        if group["momentum"]:
            buf = state.get("momentum_buffer")
            damped = (1 - group["dampening"]) * d
            buf = d.copy() if buf is None else group["momentum"] * buf + damped
            new_state["momentum_buffer"] = buf
            d = d + group["momentum"] * buf if group["nesterov"] else buf
        return -group["lr"] * d, new_state


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; `weight_decay` is coupled (L2).

    Parameters
    ----------
    params : iterable
        Tensors to optimise, or dicts of them (`"params"`) with per-group hyper-parameters.
    lr : float
        The learning rate.
    betas : tuple of two floats
        Decay rates of the running means of the gradient and of its square.
    eps : float
        Added to the denominator for numerical stability.
    weight_decay : float
        L2 penalty: `weight_decay * w` is added to the gradient.
    amsgrad : bool
        Divide by the largest running mean of the squared gradient so far (AMSGrad).
    """

    decoupled = False
    rules = dict(lr=NONNEG, betas=UNIT_OPEN, eps=NONNEG, weight_decay=NONNEG, amsgrad=BOOL)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if not self.decoupled:
            grad = _l2(grad, param, wd)
        t = state.get("step", 0) + 1
        m = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * grad
        v = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * grad * grad
        new_state: State = {"step": t, "exp_avg": m, "exp_avg_sq": v}
        if group["amsgrad"]:
            v = np.maximum(state.get("max_exp_avg_sq", 0.0), v)
            new_state["max_exp_avg_sq"] = v
        denom = np.sqrt(v / (1 - beta2 ** t)) + group["eps"]
        change = (-lr / (1 - beta1 ** t)) * m / denom
        if self.decoupled:  # w <- w (1 - lr wd) - step, written as a change of w
            change -= (lr * wd) * param
        return change, new_state


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): `w <- w (1 - lr wd)`.

    Parameters
    ----------
    params : iterable
        Tensors to optimise, or dicts of them (`"params"`) with per-group hyper-parameters.
    lr : float
        The learning rate.
    betas : tuple of two floats
        Decay rates of the running means of the gradient and of its square.
    eps : float
        Added to the denominator for numerical stability.
    weight_decay : float
        Decoupled decay `wd`: each step first shrinks the weights by `lr * wd`.
    amsgrad : bool
        Divide by the largest running mean of the squared gradient so far (AMSGrad).
    """

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide by a running RMS of gradients; optional momentum, centering.

    Parameters
    ----------
    params : iterable
        Tensors to optimise, or dicts of them (`"params"`) with per-group hyper-parameters.
    lr : float
        The learning rate.
    alpha : float
        Decay rate of the running mean of the squared gradient.
    eps : float
        Added to the denominator for numerical stability.
    weight_decay : float
        L2 penalty: `weight_decay * w` is added to the gradient.
    momentum : float
        Momentum factor (0: none).
    centered : bool
        Normalise by an estimate of the gradient's variance: the running mean of g**2
        minus the square of the running mean of g.
    """

    rules = dict(lr=NONNEG, alpha=UNIT_CLOSED, eps=NONNEG, weight_decay=NONNEG,
                 momentum=UNIT_OPEN, centered=BOOL)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def update(self, param, grad, state, group):
        alpha = group["alpha"]
        grad = _l2(grad, param, group["weight_decay"])
        sq = alpha * state.get("square_avg", 0.0) + (1 - alpha) * grad * grad
        new_state: State = {"square_avg": sq}
        avg = sq
        if group["centered"]:
            mean = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * grad
            new_state["grad_avg"] = mean
            avg = sq - mean * mean
        denom = np.sqrt(avg) + group["eps"]
        if group["momentum"]:
            buf = group["momentum"] * state.get("momentum_buffer", 0.0) + grad / denom
            new_state["momentum_buffer"] = buf
            return -group["lr"] * buf, new_state
        return -group["lr"] * grad / denom, new_state


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): per-coordinate steps shrinking with the sum of g**2.

    Parameters
    ----------
    params : iterable
        Tensors to optimise, or dicts of them (`"params"`) with per-group hyper-parameters.
    lr : float
        The learning rate.
    lr_decay : float
        The step k uses `lr / (1 + (k - 1) * lr_decay)`.
    weight_decay : float
        L2 penalty: `weight_decay * w` is added to the gradient.
    initial_accumulator_value : float
        Starting value of the sum of squared gradients.
    eps : float
        Added to the denominator for numerical stability.
    """

    rules = dict(lr=NONNEG, lr_decay=NONNEG, weight_decay=NONNEG,
                 initial_accumulator_value=NONNEG, eps=NONNEG)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def update(self, param, grad, state, group):
        grad = _l2(grad, param, group["weight_decay"])
        t = state.get("step", 0) + 1
        total = state.get("sum", group["initial_accumulator_value"]) + grad * grad
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        return -clr * grad / (np.sqrt(total) + group["eps"]), {"step": t, "sum": total}
