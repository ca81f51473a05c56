"""Learning-rate schedules (closed forms, so they can be restarted from any epoch)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from ..functional import _int_at_least, _real_in
from .optimizer import Optimizer, _describe


def _positive_float(scheduler: str, key: str, value: Any) -> float:
    if _real_in(value, key, scheduler, 0.0) == 0:
        raise ValueError(f"{scheduler}: {key} must be positive, got {value!r}")
    return float(value)


class LRScheduler(ABC):
    """Base class: `step()` once per epoch sets each group's `lr` to `lr_at`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' `lr` is set on every `step()`.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got "
                            f"{_describe(optimizer)}")
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0

    @abstractmethod
    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate of a group with initial rate `base_lr` after `epoch` steps.

        Parameters
        ----------
        base_lr : float
            The group's initial learning rate.
        epoch : int
            Steps taken so far.
        """

    def step(self) -> None:
        """Advance one epoch and update the optimizer's learning rates."""
        self.last_epoch += 1
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The learning rates now in use."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict` (checked first: the same keys, nothing changes on error).

        Parameters
        ----------
        state : dict
            What `state_dict()` returned.
        """
        own = self.state_dict()
        if not isinstance(state, dict) or set(state) != set(own):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with "
                             f"keys {sorted(own)}, got {_describe(state)}")
        if len(state["base_lrs"]) != len(self.base_lrs):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(state['base_lrs'])} "
                             f"base_lrs for {len(self.base_lrs)} parameter groups")
        self.__dict__.update(state)


class StepLR(LRScheduler):
    """lr * gamma ** (epoch // step_size).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' `lr` is set on every `step()`.
    step_size : int
        Epochs between two decays.
    gamma : float
        Factor of each decay.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import optim
    >>> opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> [(sched.step(), sched.get_last_lr()[0])[1] for _ in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = _int_at_least(step_size, "step_size", "StepLR")
        self.gamma = _positive_float("StepLR", "gamma", gamma)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr * gamma ** epoch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' `lr` is set on every `step()`.
    gamma : float
        Factor applied every epoch.
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = _positive_float("ExponentialLR", "gamma", gamma)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """eta_min + (lr - eta_min) (1 + cos(pi epoch / T_max)) / 2.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' `lr` is set on every `step()`.
    T_max : int
        Epochs of the half cosine period: the rate reaches `eta_min` at epoch `T_max`.
    eta_min : float
        The smallest learning rate.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max = _int_at_least(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = _real_in(eta_min, "eta_min", "CosineAnnealingLR", 0.0)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch /
                                                                       self.T_max)) / 2
