"""Optimizers and schedules: PyTorch's update rules, atomic steps, state dicts."""

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn, optim

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.2)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def _fake_grad(p, step):
    """A gradient that depends on the parameters and changes every step."""
    return np.sin(p * (step + 1)) + 0.1 * p


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_first_steps_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    start = np.random.default_rng(0).standard_normal((3, 4))
    ours = tg.Tensor(start, dtype=np.float64, requires_grad=True)
    theirs = torch.tensor(start, requires_grad=True)
    opt = getattr(optim, name)([ours], **kwargs)
    topt = getattr(torch.optim, name)([theirs], **kwargs)
    for step in range(6):
        ours.grad = tg.Tensor(_fake_grad(ours.data, step), dtype=np.float64)
        theirs.grad = torch.tensor(_fake_grad(theirs.detach().numpy(), step))
        opt.step()
        topt.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name} {kwargs} step {step}")


def test_step_that_fails_changes_nothing():
    a, b = tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = tg.ones(2), tg.ones(4)  # b's gradient has the wrong shape
    with pytest.raises(ValueError, match="gradient of shape \\(4,\\) for a parameter of shape"):
        opt.step()
    assert a.tolist() == [1.0, 1.0] and b.tolist() == [1.0, 1.0, 1.0] and opt.state == {}


def test_optimizer_state_dict_round_trip_continues_identically():
    def run(opt_state=None, steps=3):
        w = tg.Tensor(np.arange(4.0), dtype=np.float64, requires_grad=True)
        opt = optim.Adam([w], lr=0.1)
        if opt_state is not None:
            w.data[:] = opt_state[0]
            opt.load_state_dict(opt_state[1])
        for s in range(steps):
            w.grad = tg.Tensor(_fake_grad(w.data, s), dtype=np.float64)
            opt.step()
        return w.data.copy(), opt.state_dict()

    w3, state3 = run(steps=3)
    resumed, _ = run((w3, state3), steps=3)
    w6, _ = run(steps=3)
    assert state3["state"][0]["step"] == 3
    assert not np.allclose(resumed, w6)  # it continued from step 3, not from scratch
    with pytest.raises(ValueError, match="parameter groups do not match"):
        optim.Adam([tg.ones(1, requires_grad=True), tg.ones(1, requires_grad=True)]
                   ).load_state_dict(state3)


def test_param_groups_and_zero_grad():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = optim.SGD([{"params": net[0].parameters()}, {"params": net[1].parameters(), "lr": 0.5}],
                    lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    net(tg.ones(1, 2)).sum().backward()
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(TypeError, match="unknown options \\['momentun'\\]"):
        optim.SGD([{"params": net.parameters(), "momentun": 0.9}], lr=0.1)
    with pytest.raises(TypeError, match="leaf tensors"):
        optim.SGD([tg.ones(2)], lr=0.1)


def test_nielsen_l2_rule_equals_weight_decay_over_n():
    eta, lmbda, n = 0.5, 5.0, 1000
    w = tg.Tensor([1.0, -2.0], dtype=np.float64, requires_grad=True)
    opt = optim.SGD([w], lr=eta, weight_decay=lmbda / n)
    g = np.array([0.3, 0.1])
    w.grad = tg.Tensor(g, dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(w.data, (1 - eta * lmbda / n) * np.array([1.0, -2.0]) - eta * g)


@pytest.mark.parametrize("make, expected", [
    (lambda o: optim.lr_scheduler.StepLR(o, 2, 0.5), [1.0, 0.5, 0.5, 0.25]),
    (lambda o: optim.lr_scheduler.ExponentialLR(o, 0.5), [0.5, 0.25, 0.125, 0.0625]),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 4), [0.8535534, 0.5, 0.1464466, 0.0]),
])
def test_lr_schedules(make, expected):
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=1.0)
    sched = make(opt)
    lrs = []
    for _ in expected:
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, expected, rtol=1e-6)


def test_step_that_traps_a_floating_point_error_changes_nothing():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=1e30)
    a.grad, b.grad = tg.ones(2), tg.full((2,), 1e30)  # lr * grad overflows float32 for b only
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        opt.step()
    assert a.tolist() == [1.0, 1.0] and b.tolist() == [1.0, 1.0] and opt.state == {}
