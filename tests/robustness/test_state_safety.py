"""Nothing is half-updated after an error: a failed optimizer step, Module.load_state_dict or
Optimizer.load_state_dict leaves every parameter, buffer, .grad and optimizer state bit for bit
as it was (snapshots are deep copies, compared with array_equal on the raw bytes)."""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd import nn, optim
from tinygrad_nd.nn import functional as F

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=1e-2),
}


def _model():
    # Five tensors with state: 2 linear weights, 2 biases, BatchNorm's weight/bias + buffers.
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _train_step(model, opt):
    x = tg.Tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    loss = F.cross_entropy(model(x), np.array([0, 1, 0, 1, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    loss = F.cross_entropy(model(x), np.array([1, 1, 0, 0, 1]))
    opt.zero_grad()
    loss.backward()  # leave fresh gradients in place for the failing step


def _snapshot(model, opt=None):
    """Copies of every array the failure could touch, with dtypes."""
    arrays = {}
    for name, p in model.named_parameters():
        arrays[name] = p.data.copy()
        arrays[name + ".grad"] = None if p.grad is None else p.grad.data.copy()
        arrays[name + ".version"] = p._version[0]
    for name, b in model.named_buffers():
        arrays["buffer:" + name] = b.data.copy()
    if opt is not None:
        arrays["opt.state"] = copy.deepcopy(opt.state)
        arrays["opt.groups"] = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                                              for g in opt.param_groups])
    return arrays


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape \
            and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return a == b


def assert_unchanged(before, after):
    assert before.keys() == after.keys()
    changed = [k for k in before if not _same(before[k], after[k])]
    assert not changed, f"changed by a failed call: {changed}"


def _setup(name):
    model = _model()
    opt = OPTIMIZERS[name](list(model.parameters()))
    _train_step(model, opt)
    return model, opt


# ---- optimizer.step -------------------------------------------------------------------------
BAD_GRADS = {
    "shape": (lambda g: np.zeros(g.shape + (1,), g.dtype), ValueError, "gradient of shape"),
    "dtype": (lambda g: g.astype(np.float64), TypeError, "gradient of dtype float64"),
    "complex": (lambda g: g.astype(np.complex64), TypeError, "gradient of dtype complex64"),
    "int": (lambda g: g.astype(np.int64), TypeError, "gradient of dtype int64"),
}


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("bad", sorted(BAD_GRADS))
@given(which=st.integers(0, 5))
def test_failed_step_changes_nothing(opt_name, bad, which):
    model, opt = _setup(opt_name)
    params = list(model.parameters())
    make, error, match = BAD_GRADS[bad]
    target = params[which % len(params)]
    target.grad = tg.Tensor._make(make(target.grad.data), None)
    before = _snapshot(model, opt)
    with pytest.raises(error, match=match):
        opt.step()
    assert_unchanged(before, _snapshot(model, opt))


# ---- Module.load_state_dict -------------------------------------------------------------------
def _bad_entry(kind, value):
    return {
        "shape": np.zeros(value.shape + (2,), value.dtype),
        "dtype": value.astype(np.float64),
        "int": value.astype(np.int32),
        "non-array": "not an array",
        "none": None,
        "list": value.tolist(),
    }[kind]


LOAD_ERRORS = {"shape": ValueError, "dtype": TypeError, "int": TypeError,
               "non-array": TypeError, "none": TypeError, "list": TypeError}


@pytest.mark.parametrize("strict", [True, False])
@given(which=st.integers(0, 100), kind=st.sampled_from(sorted(LOAD_ERRORS)))
def test_failed_load_state_dict_changes_nothing(strict, which, kind):
    model = _model()
    source = _model()  # different values, so a partial copy would show
    state = source.state_dict()
    keys = list(state)
    key = keys[which % len(keys)]
    state[key] = _bad_entry(kind, state[key].data)
    with tg.no_grad():
        list(model.parameters())[0].grad = tg.ones(4, 3)
    before = _snapshot(model)
    with pytest.raises(LOAD_ERRORS[kind], match=f"load_state_dict: '{key}'"):
        model.load_state_dict(state, strict=strict)
    assert_unchanged(before, _snapshot(model))


@given(which=st.integers(0, 100), extra=st.booleans())
def test_missing_or_extra_key_with_strict_changes_nothing(which, extra):
    model, source = _model(), _model()
    state = source.state_dict()
    if extra:
        state["surplus.weight"] = tg.ones(2)
    else:
        del state[list(state)[which % len(state)]]
    before = _snapshot(model)
    with pytest.raises(KeyError, match="missing keys .* unexpected keys"):
        model.load_state_dict(state)
    assert_unchanged(before, _snapshot(model))


def test_the_third_of_five_wrong_changes_none_of_the_first_two():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1))
    source = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1))
    state = source.state_dict()
    third = list(state)[2]
    state[third] = tg.zeros(3, 3)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=f"'{third}' has shape \\(3, 3\\)"):
        model.load_state_dict(state)
    assert_unchanged(before, _snapshot(model))


# ---- Optimizer.load_state_dict ---------------------------------------------------------------
def _corrupt_opt_state(kind, state, which):
    state = copy.deepcopy(state)
    keys = sorted(state["state"])
    i = keys[which % len(keys)]
    if kind == "shape":
        entry = state["state"][i]
        name = next(k for k, v in entry.items() if isinstance(v, np.ndarray))
        entry[name] = np.zeros(entry[name].shape + (3,), np.float32)
    elif kind == "index":
        state["state"][len(keys) + 7] = state["state"][i]
    elif kind == "entry":
        state["state"][i] = [1, 2]
    elif kind == "hyper":
        state["param_groups"][0]["lr"] = -1.0
    elif kind == "option":
        state["param_groups"][0]["lr_typo"] = 0.1
    elif kind == "groups":
        state["param_groups"][0]["params"] = state["param_groups"][0]["params"][:-1]
    return state


OPT_LOAD_ERRORS = {"shape": ValueError, "index": ValueError, "entry": TypeError,
                   "hyper": ValueError, "option": ValueError, "groups": ValueError}


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@given(kind=st.sampled_from(sorted(OPT_LOAD_ERRORS)), which=st.integers(0, 10))
def test_failed_optimizer_load_state_dict_changes_nothing(opt_name, kind, which):
    model, opt = _setup(opt_name)
    other_model, other = _setup(opt_name)
    _train_step(other_model, other)  # a different state to load
    bad = _corrupt_opt_state(kind, other.state_dict(), which)
    before = _snapshot(model, opt)
    with pytest.raises(OPT_LOAD_ERRORS[kind], match="load_state_dict"):
        opt.load_state_dict(bad)
    assert_unchanged(before, _snapshot(model, opt))


@pytest.mark.parametrize("state", [[1, 2], {"state": {}}, None])
def test_optimizer_load_state_dict_needs_its_mapping(state):
    _, opt = _setup("sgd")
    with pytest.raises(TypeError, match="SGD.load_state_dict: expected a mapping with keys"):
        opt.load_state_dict(state)


def test_optimizer_state_round_trips_after_validation():
    model, opt = _setup("adam")
    saved = opt.state_dict()
    _train_step(model, opt)
    opt.load_state_dict(saved)
    assert _same(opt.state_dict()["state"], saved["state"])


def test_scheduler_load_state_dict_checks_keys():
    _, opt = _setup("sgd")
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    before = sched.state_dict()
    with pytest.raises(ValueError, match="StepLR.load_state_dict: expected a dict with keys"):
        sched.load_state_dict({"last_epoch": 3})
    assert sched.state_dict() == before
