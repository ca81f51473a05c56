"""The `Optimizer` base: parameter groups, atomic steps and state dicts.

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

from ..autograd import bump_inplace_epoch
from ..functional import _real_in
from ..tensor import Tensor

State = dict[str, Any]
# The state of a parameter not updated yet; `update` never mutates its state argument.
_NO_STATE: Mapping[str, Any] = MappingProxyType({})


class Optimizer(ABC):
    """Base class: subclasses implement `update` for one parameter.

    Parameters
    ----------
    params : iterable
        The Tensors to optimise, or dicts with a `"params"` key (the group's Tensors) and
        per-group hyper-parameters.
    defaults : dict
        The subclass's hyper-parameters, overridable per group.
    """

    # Hyper-parameter rules, checked on every group at construction and on load_state_dict:
    # name -> (low, high, high_inclusive) for numbers, or BOOL. Subclasses fill this in.
    rules: dict[str, Any] = {}

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor) or isinstance(params, (set, frozenset, dict)):
            raise TypeError(f"{name}: params must be an ordered iterable (a list) of Tensors "
                            f"or of dicts, got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        seen: dict[int, int] = {}
        for g, group in enumerate(groups):
            if not isinstance(group, dict) or "params" not in group:
                raise TypeError(f"{name}: parameter group {g} must be a dict with a 'params' "
                                f"key, got {type(group).__name__}")
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise TypeError(f"{name}: unknown options {sorted(unknown)}")
            members = group["params"]
            members = [members] if isinstance(members, Tensor) else list(members)
            for p in members:
                _check_param(name, p)
                if id(p) in seen:
                    raise ValueError(f"{name}: a parameter of shape {p.shape} is given twice "
                                     f"(in parameter groups {seen[id(p)]} and {g})")
                seen[id(p)] = g
            full = {**defaults, **group, "params": members}
            self._check_group(full)
            self.param_groups.append(full)
        self.state: dict[int, State] = {}

    def _check_group(self, group: Mapping[str, Any], op: str = "") -> None:
        """Raise if a hyper-parameter of `group` breaks `rules` (nothing is stored);
        errors start with `op` (default: the optimizer's name)."""
        for key, rule in self.rules.items():
            if key in group:
                _check_hyper(op or type(self).__name__, key, group[key], rule)

    @abstractmethod
    def update(self, param: np.ndarray, grad: np.ndarray, state: Mapping[str, Any],
               group: dict[str, Any]) -> tuple[np.ndarray, State]:
        """Return the change to add to the parameter, and its new state.

        Both are fresh arrays; `param`, `grad` and `state` are left unchanged, so that a
        step that fails for one parameter has changed nothing.

        Parameters
        ----------
        param : array
            The parameter's current value.
        grad : array
            Its gradient.
        state : mapping
            Its state from the previous step (empty at the first).
        group : dict
            The hyper-parameters of its group.
        """

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all optimised parameters.

        Parameters
        ----------
        set_to_none : bool
            Set `.grad` to None (PyTorch's default) rather than to zeros.
        """
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
                if grad.dtype != data.dtype:
                    raise TypeError(f"{type(self).__name__}.step: gradient of dtype "
                                    f"{grad.dtype} for a parameter of dtype {data.dtype} "
                                    f"(shape {data.shape})")
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
        bump_inplace_epoch()

    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and per-parameter state (copies), parameters by position."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        state = {index[k]: copy.deepcopy(v) for k, v in self.state.items() if k in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a `state_dict`; validated first, nothing changes on error.

        Parameters
        ----------
        state_dict : mapping
            What `state_dict()` returned, for an optimizer with the same groups.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise TypeError(f"{name}: expected a mapping with keys 'state' and 'param_groups', "
                            f"got {_describe(state_dict)}")
        groups, states = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, Mapping)
                                                            for g in groups):
            raise TypeError(f"{name}: 'param_groups' must be a list of dicts")
        if len(groups) != len(self.param_groups) or any(
                len(a.get("params", ())) != len(b["params"])
                for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{name}: the parameter groups do not match this optimizer's "
                             "(different sizes)")
        new_groups = []
        for target, source in zip(self.param_groups, groups):
            unknown = set(source) - set(self.defaults) - {"params"}
            if unknown:
                raise ValueError(f"{name}: unknown options {sorted(unknown)}")
            merged = {**target, **{k: v for k, v in source.items() if k != "params"}}
            self._check_group(merged, name)
            new_groups.append(merged)
        if not isinstance(states, Mapping):
            raise TypeError(f"{name}: 'state' must be a mapping, got {_describe(states)}")
        params = self._all_params()
        new_state: dict[int, State] = {}
        for i, st in states.items():
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) \
                    or not 0 <= i < len(params):
                raise ValueError(f"{name}: state for parameter {i!r}, but there are only "
                                 f"{len(params)} (indices 0..{len(params) - 1})")
            if not isinstance(st, Mapping):
                raise TypeError(f"{name}: state of parameter {i} must be a mapping, got "
                                f"{_describe(st)}")
            param = params[int(i)]
            for key, value in st.items():
                if isinstance(value, Tensor):
                    value = value.data
                if isinstance(value, np.ndarray) and value.shape != param.shape:
                    raise ValueError(f"{name}: state {key!r} of parameter {i} has shape "
                                     f"{value.shape}, the parameter {param.shape}")
            new_state[id(param)] = copy.deepcopy(dict(st))
        # Commit: everything above only read.
        for target, merged in zip(self.param_groups, new_groups):
            target.update(merged)
        self.state = new_state

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({options})"


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]


def _check_param(optimizer: str, p: Any) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{optimizer}: can only optimise Tensors, got {_describe(p)}")
    if p._ctx is not None:
        raise ValueError(f"{optimizer}: can't optimise a non-leaf tensor (shape {p.shape}); "
                         "optimise the leaf it was computed from, or detach() it")
    if not p.requires_grad:
        raise TypeError(f"{optimizer}: can only optimise leaf tensors with requires_grad=True, "
                        f"got one of shape {p.shape} and dtype {p.dtype}")
    if p.dtype.kind != "f":
        raise TypeError(f"{optimizer}: can only optimise floating-point tensors, got dtype "
                        f"{p.dtype}")


BOOL = "bool"
Rule = tuple[float, float, bool] | str


def _check_hyper(optimizer: str, key: str, value: Any, rule: Rule) -> None:
    """One hyper-parameter against its rule: a bool, or a finite number in [low, high) or
    [low, high] (`betas` is checked element by element)."""
    if rule == BOOL:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{optimizer}: {key} must be a bool, got {_describe(value)}")
        return
    if key == "betas":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise TypeError(f"{optimizer}: betas must be a pair of floats, got "
                            f"{_describe(value)}")
        for i, beta in enumerate(value):
            _check_hyper(optimizer, f"betas[{i}]", beta, rule)
        return
    low, high, closed = rule  # type: ignore[misc]
    _real_in(value, key, optimizer, low, high, closed)
