"""The ``Optimizer`` base: parameter groups, atomic steps and state dicts.

A step first computes every parameter's change and new state from numpy arrays, and only
then adds them all in place, so an error half way (a bad gradient shape, say) leaves the
model and the optimizer exactly as they were.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..tensor import Tensor

State = dict[str, Any]
# The state of a parameter not updated yet; ``update`` never mutates its state argument.
_NO_STATE: Mapping[str, Any] = MappingProxyType({})


class Optimizer(ABC):
    """Base class: subclasses implement :meth:`update` for one parameter.

    Parameters
    ----------
    params : iterable of Tensors, or of dicts with a ``"params"`` key and per-group options
    defaults : the subclass's hyper-parameters, overridable per group
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        for group in groups:
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise TypeError(f"{type(self).__name__}: unknown options {sorted(unknown)}")
            members = list(group["params"])
            for p in members:
                if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                    raise TypeError(f"{type(self).__name__}: can only optimise leaf tensors "
                                    "with requires_grad=True")
            self.param_groups.append({**defaults, **group, "params": members})
        self.state: dict[int, State] = {}

    @abstractmethod
    def update(self, param: np.ndarray, grad: np.ndarray, state: Mapping[str, Any],
               group: dict[str, Any]) -> tuple[np.ndarray, State]:
        """Return the change to add to the parameter, and its new state.

        Both are fresh arrays; ``param``, ``grad`` and ``state`` are left unchanged, so that a
        step that fails for one parameter has changed nothing.
        """

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all optimised parameters (to None, or to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._make(np.zeros_like(p.data), None)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        updates = []
        states, update = self.state, self.update
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                data, grad = p.data, grad.data
                if grad.shape != data.shape:
                    raise ValueError(f"{type(self).__name__}.step: gradient of shape "
                                     f"{grad.shape} for a parameter of shape {data.shape}")
                change, state = update(data, grad, states.get(id(p), _NO_STATE), group)
                updates.append((p, change, state))
        # Commit. Nothing above changed the model, and nothing below can fail half way: the
        # shapes fit, and floating-point traps (np.seterr(all="raise")) are off for the adds.
        with np.errstate(all="ignore"):
            for p, change, state in updates:
                np.add(p.data, change, out=p.data, casting="unsafe")
                p._version[0] += 1
                if state or id(p) in states:  # (stateless optimizers keep no entries)
                    states[id(p)] = state

    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and per-parameter state (copies), parameters by position."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        state = {index[k]: copy.deepcopy(v) for k, v in self.state.items() if k in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; validated first, nothing changes on error."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the parameter groups do "
                             "not match this optimizer's (different sizes)")
        params = self._all_params()
        for i, st in state_dict["state"].items():
            if not 0 <= int(i) < len(params):
                raise ValueError(f"load_state_dict: state for parameter {i}, but there are only "
                                 f"{len(params)}")
            for key, value in st.items():
                if isinstance(value, np.ndarray) and value.shape != params[int(i)].shape:
                    raise ValueError(f"load_state_dict: state {key!r} of parameter {i} has "
                                     f"shape {value.shape}, the parameter {params[int(i)].shape}")
        for target, source in zip(self.param_groups, groups):
            target.update({k: v for k, v in source.items() if k != "params"})
        self.state = {id(params[int(i)]): copy.deepcopy(v)
                      for i, v in state_dict["state"].items()}

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({options})"
