"""tg.jit: a replayed step ends bit-identical to the eager one, or the jit runs eagerly and says
why (or raises, when strict)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn, optim
from tinygrad_nd.diagnostics import ActivationMonitor, GradientMonitor
from tinygrad_nd.jit import JitError, JitWarning

F = nn.functional


def make_model(kind: str) -> nn.Module:
    tg.manual_seed(0)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(12, 10), nn.Sigmoid(), nn.Linear(10, 4))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(3 * 2 * 2, 4))
    if kind == "batchnorm":
        return nn.Sequential(nn.Linear(12, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 4))
    if kind == "dropout":
        return nn.Sequential(nn.Linear(12, 10), nn.ReLU(), nn.Dropout(0.3, tg.Generator(7)),
                             nn.Linear(10, 4))
    raise ValueError(kind)


def make_optimizer(name: str, model: nn.Module) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(model.parameters(), lr=1e-2)
    return optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def batches(kind: str, steps: int, sizes: tuple[int, ...] = (6,)) -> list[tuple]:
    rng = np.random.default_rng(1)
    shape = (1, 6, 6) if kind == "cnn" else (12,)
    return [(rng.standard_normal((n, *shape)).astype(np.float32), rng.integers(0, 4, n))
            for n in (sizes * steps)[:steps]]


def training_step(model: nn.Module, opt: optim.Optimizer):
    """The usual step: forward, zero_grad, backward, step; returns the loss."""
    def step(x, y):
        loss = F.cross_entropy(model(tg.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def train(kind: str, opt_name: str, compiled: bool, data: list[tuple]) -> dict:
    """Run the steps eagerly or compiled; everything a step may change, copied."""
    model = make_model(kind)
    opt = make_optimizer(opt_name, model)
    step = training_step(model, opt)
    run = tg.jit(step) if compiled else step
    losses = [run(x, y).item() for x, y in data]
    state = {id(p): i for i, p in enumerate(model.parameters())}
    return {"losses": losses,
            "params": [p.data.copy() for p in model.parameters()],
            "grads": [p.grad.data.copy() for p in model.parameters()],
            "buffers": [b.data.copy() for _, b in model.named_buffers()],
            "opt": {state[k]: {n: np.copy(v) for n, v in s.items()} for k, s in opt.state.items()},
            "jit": run if compiled else None}


def assert_identical(a: dict, b: dict) -> None:
    assert a["losses"] == b["losses"]  # the returned loss, every step
    for key in ("params", "grads", "buffers"):
        assert len(a[key]) == len(b[key])
        for u, v in zip(a[key], b[key]):
            assert u.dtype == v.dtype and np.array_equal(u, v), key
    assert a["opt"].keys() == b["opt"].keys()
    for k in a["opt"]:
        for name, value in a["opt"][k].items():
            assert np.array_equal(value, b["opt"][k][name]), name


@pytest.mark.parametrize("opt_name", ["adam", "sgd_momentum"])
@pytest.mark.parametrize("kind", ["mlp", "cnn", "batchnorm", "dropout"])
def test_hundred_steps_bit_identical_to_eager(kind, opt_name):
    data = batches(kind, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a silent fallback to eager would not test the replay
        eager, compiled = (train(kind, opt_name, c, data) for c in (False, True))
    assert_identical(eager, compiled)
    assert compiled["jit"].replays == 98 and compiled["jit"].recordings == 2
    if kind == "batchnorm":
        assert compiled["buffers"][2] == 100  # num_batches_tracked counted every replay


def test_dropout_on_the_default_generator_draws_like_eager():
    def run(compiled):
        tg.manual_seed(3)
        x = tg.Tensor(np.ones((4, 5), np.float32))
        w = tg.Tensor(np.ones((5, 3), np.float32), requires_grad=True)

        def step():
            w.grad = None
            loss = F.dropout(x @ w, 0.5).sum()
            loss.backward()
            return loss

        f = tg.jit(step) if compiled else step
        return [(f().item(), w.grad.data.copy()) for _ in range(6)]

    eager, compiled = run(False), run(True)
    assert [e[0] for e in eager] == [c[0] for c in compiled]
    assert all(np.array_equal(e[1], c[1]) for e, c in zip(eager, compiled))
    assert len({e[0] for e in eager}) > 1  # the masks do change from step to step


def test_a_different_batch_shape_records_again_and_stays_exact():
    data = batches("mlp", 30, sizes=(6, 6, 6, 4))  # a short batch every fourth step
    eager, compiled = train("mlp", "sgd", False, data), train("mlp", "sgd", True, data)
    assert_identical(eager, compiled)
    jit = compiled["jit"]
    assert jit.recordings == 4 and jit.replays == 26


def test_accumulating_gradients_without_zero_grad():
    def run(compiled):
        w = tg.Tensor(np.full((3, 2), 0.5, np.float32), requires_grad=True)

        def step(x):
            loss = (tg.Tensor(x) @ w).tanh().sum()
            loss.backward()
            return loss

        f = tg.jit(step) if compiled else step
        xs = np.random.default_rng(0).standard_normal((5, 4, 3)).astype(np.float32)
        return [f(x).item() for x in xs], w.grad.data

    (l1, g1), (l2, g2) = run(False), run(True)
    assert l1 == l2 and np.array_equal(g1, g2)


def test_strict_raises_on_a_new_shape_and_names_it():
    w = tg.Tensor(np.ones((3, 2), np.float32), requires_grad=True)

    @tg.jit(strict=True)
    def step(x):
        w.grad = None
        (tg.Tensor(x) @ w).sum().backward()

    for _ in range(3):
        step(np.ones((4, 3), np.float32))
    assert step.replays == 1
    with pytest.raises(JitError, match=r"strict=True.*\(5, 3\) float32"):
        step(np.ones((5, 3), np.float32))


def test_grad_mode_and_training_flag_are_part_of_the_match():
    model = make_model("dropout")
    calls = []

    @tg.jit
    def forward(x):
        calls.append(1)
        return model(tg.Tensor(x))

    x = np.ones((2, 12), np.float32)
    for _ in range(3):
        forward(x)
    assert forward.replays == 1
    model.eval()  # dropout off: a different step, recorded again
    out = [forward(x).data.copy() for _ in range(3)]
    with tg.no_grad():
        forward(x)
    assert forward.recordings == 5
    assert np.array_equal(out[0], out[2])


def test_hooks_added_after_compiling_run_eagerly_with_a_warning():
    model = make_model("mlp")
    step = tg.jit(training_step(model, optim.SGD(model.parameters(), lr=0.1)))
    (x, y), = batches("mlp", 1)
    for _ in range(3):
        step(x, y)
    monitor = GradientMonitor(model)
    with pytest.warns(JitWarning, match="tensor hook"):
        step(x, y)
    assert len(monitor.history["weight_grad"]) == 1  # the hooks did run
    monitor.remove()
    activations = ActivationMonitor(model)
    with pytest.warns(JitWarning, match="module hooks"):
        step(x, y)
    activations.remove()
    replays = step.replays
    step(x, y)
    assert step.replays == replays + 1  # hooks gone: replayed again


@pytest.mark.parametrize("case", ["create_graph", "value_from_the_batch", "clip_grad_norm",
                                  "data_assignment", "value_read"])
def test_what_cannot_be_replayed_runs_eagerly_with_the_reason(case):
    seen = []

    def run(compiled):
        w = tg.Tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
                      requires_grad=True)

        def step(x):
            w.grad = None
            if case == "value_from_the_batch":  # computed outside the ops: must not be frozen
                loss = (tg.Tensor(x * x.mean()) @ w).sum()
            else:
                loss = (tg.Tensor(x) @ w).sigmoid().sum()
            loss.backward(create_graph=case == "create_graph")
            if case == "clip_grad_norm":
                nn.utils.clip_grad_norm_([w], 0.1)
            if case == "data_assignment":
                w.data = w.data * 0.5
            if case == "value_read":  # a Python side effect the replay would skip
                seen.append(loss.item())
            return loss

        f = tg.jit(step) if compiled else step
        xs = np.random.default_rng(0).standard_normal((4, 5, 3)).astype(np.float32)
        return [f(x).item() for x in xs], w.grad.data.copy(), w.data.copy(), f

    eager = run(False)
    with pytest.warns(JitWarning, match="runs eagerly"):
        compiled = run(True)
    assert eager[0] == compiled[0]
    assert np.array_equal(eager[1], compiled[1]) and np.array_equal(eager[2], compiled[2])
    assert compiled[3].replays == 0
    assert len(seen) == (8 if case == "value_read" else 0)


def test_strict_raises_instead_of_running_eagerly():
    w = tg.Tensor(np.ones((3, 2), np.float32), requires_grad=True)

    @tg.jit(strict=True)
    def step(x):
        w.grad = None
        (tg.Tensor(x) @ w).sum().backward(create_graph=True)

    with pytest.raises(JitError, match="create_graph"):
        step(np.ones((4, 3), np.float32))


def test_tensor_arguments_and_the_tape_text():
    model = make_model("mlp")
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tg.jit
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, {"logits_mean": loss * 0 + 1}

    (x, y), = batches("mlp", 1)
    for _ in range(3):
        loss, extra = step(tg.Tensor(x), y)
    assert step.replays == 1 and extra["logits_mean"].item() == 1.0
    text = step.tape_text()
    # linear and cross-entropy written out as numpy calls into buffers; mul/add as calls
    # of the ops' forwards; SGD's update as numpy calls, its general form as the fallback
    for call in ("np.matmul(", "check_class_indices(", "out=", "mul_forward", "sgd.update",
                 "getrefcount("):
        assert call in text


def test_the_depth_experiments_step_compiled_changes_no_number(tmp_path):
    from tinygrad_nd import data
    from tinygrad_nd.experiments.common import (
        build_net,
        compiled_train_step,
        nielsen_cross_entropy,
        one_hot,
        train_step,
    )
    from tinygrad_nd.experiments.depth import DepthConfig, run_depth
    from tinygrad_nd.experiments.vanishing import nielsen_optimizer

    train, _ = data.mnist_5k(split=(200, 10))
    xs, ys = train.arrays

    def weights(compiled):
        model = build_net([784, 30, 30, 10], seed=0)
        opt = nielsen_optimizer(model, 0.1, 5.0, len(xs))
        step = compiled_train_step(model, nielsen_cross_entropy, opt) if compiled else None
        loader = data.DataLoader(data.TensorDataset(xs, one_hot(ys)), 10, shuffle=True, seed=0)
        for xb, yb in loader:
            if compiled:
                step(xb, yb)
            else:
                train_step(model, nielsen_cross_entropy, opt, xb, yb)
        return [p.data.copy() for p in model.parameters()], step

    (eager, _), (compiled, step) = weights(False), weights(True)
    assert step.replays == 18
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled))
    runs = [run_depth(tmp_path / str(j), DepthConfig(epochs=1, images=300, depths=(1, 2), jit=j),
                      verbose=False) for j in (False, True)]
    assert runs[0]["curves"] == runs[1]["curves"]


def test_a_changed_set_of_parameters_records_again():
    def run(compiled, strict=False):
        model = make_model("mlp")
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = training_step(model, opt)
        f = tg.jit(step, strict=strict) if compiled else step
        data = batches("mlp", 6)
        losses = [f(x, y).item() for x, y in data[:3]]
        model[0].weight.requires_grad_(False)  # frozen: no gradient, no update
        losses += [f(x, y).item() for x, y in data[3:]]
        return losses, [p.data.copy() for p in model.parameters()], f

    eager, compiled = run(False), run(True)
    assert eager[0] == compiled[0]
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], compiled[1]))
    assert compiled[2].recordings == 4 and compiled[2].replays == 2
    with pytest.raises(JitError, match="changed shape, dtype or requires_grad"):
        run(True, strict=True)


def test_a_label_out_of_range_raises_in_a_replayed_step_too():
    """Replays run the ops' forwards alone; the cross-entropy op checks its labels itself."""
    model = nn.Linear(4, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tg.jit
    def step(x, y):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    x = tg.Tensor(np.ones((2, 4), np.float32))
    for _ in range(4):
        step(x, np.array([0, 2]))
    for bad in (3, -1):
        with pytest.raises(ValueError, match=f"target class {bad} is out of range for 3"):
            step(x, np.array([0, bad]))


def test_a_replayed_update_is_seen_by_a_graph_saved_before_it():
    """Failed before: the replayed optimizer update bumped the parameters' versions but not
    the in-place epoch, so an eager graph saved earlier skipped its version check and
    backpropagated through the changed weights silently."""
    model = make_model("mlp")
    opt = make_optimizer("sgd", model)
    step = tg.jit(training_step(model, opt))
    data = batches("mlp", 3)
    for x, y in data[:2]:
        step(x, y)  # record, then replay
    pending = F.cross_entropy(model(tg.Tensor(data[2][0])), data[2][1])  # saves the weights
    step(*data[2])  # replayed: changes the weights in place
    with pytest.raises(RuntimeError, match="modified in place"):
        pending.backward()
