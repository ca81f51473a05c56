"""tg.jit's kernels and buffers: every kernel gives its op's numbers bit for bit, and a buffer
the replay reuses is never one the user can still see (a kept loss, gradient or output)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn, optim

F = nn.functional


def mlp(act: str = "sigmoid", sizes: tuple[int, ...] = (12, 10, 4)) -> nn.Module:
    tg.manual_seed(0)
    layers: list[nn.Module] = []
    for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(i, o))
        if k < len(sizes) - 2:
            layers.append({"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[act]())
    return nn.Sequential(*layers)


def data(steps: int, n: int = 6, features: int = 12, classes: int = 4, seed: int = 1,
         scale: float = 1.0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [((scale * rng.standard_normal((n, features))).astype(np.float32),
             rng.integers(0, classes, n)) for _ in range(steps)]


def sgd_step(model: nn.Module, opt: optim.Optimizer, set_to_none: bool = True):
    def step(x, y):
        loss = F.cross_entropy(model(tg.Tensor(x)), y)
        opt.zero_grad(set_to_none)
        loss.backward()
        opt.step()
        return loss
    return step


def replayed(fn):
    """`fn` compiled, warnings as errors (a silent fallback to eager would test nothing)."""
    compiled = tg.jit(fn)

    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return compiled(*args)
    run.jit = compiled
    return run


@pytest.mark.parametrize("act", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_their_ops_bit_for_bit(act, dtype):
    """Linear, the activations, cross-entropy (both of its reduction layouts) and plain SGD,
    on inputs large enough that sigmoid's e**-x overflows (silently, as in the eager op)."""
    for n, classes, scale in ((6, 4, 1.0), (40, 5, 60.0)):  # 40 >= 4 * 5: by-column reductions
        results = []
        for compiled in (False, True):
            model = mlp(act, (12, 10, classes))
            for p in model.parameters():
                p.data = p.data.astype(dtype)
            step = sgd_step(model, optim.SGD(model.parameters(), lr=0.1))
            run = replayed(step) if compiled else step
            losses = [run(x.astype(dtype), y).item()
                      for x, y in data(6, n, classes=classes, scale=scale)]
            results.append((losses, [p.data.copy() for p in model.parameters()],
                            [p.grad.data.copy() for p in model.parameters()]))
            if compiled:
                assert run.jit.replays == 4
                assert "np.matmul(" in run.jit.tape_text()  # (a float64 batch meets
                # tg.Tensor's float32 default: the first linear mixes dtypes, a generic call)
        (l1, p1, g1), (l2, p2, g2) = results
        assert l1 == l2
        for a, b in zip(p1 + g1, p2 + g2):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_layer_big_enough_to_be_cut_into_blocks_matches_eager_bit_for_bit():
    """A 64 x 784 batch through a 784 -> 100 layer is over `SMALL_GEMM_WORK`: eager `Linear`
    and the tape's kernel must cut its three products the same way."""
    results = []
    for compiled in (False, True):
        model = mlp("relu", (784, 100, 10))
        step = sgd_step(model, optim.SGD(model.parameters(), lr=0.1))
        run = replayed(step) if compiled else step
        losses = [run(x, y).item() for x, y in data(4, n=64, features=784, classes=10)]
        results.append((losses, [p.data.copy() for p in model.parameters()]))
        if compiled:
            assert run.jit.replays == 2  # (the first two calls record)
            assert "matmul_in_blocks(" in run.jit.tape_text()  # (which cuts only with OpenBLAS)
    (l1, p1), (l2, p2) = results
    assert l1 == l2 and all(np.array_equal(a, b) for a, b in zip(p1, p2))


def test_matmul_sum_and_a_generic_op_mixed_with_kernels():
    """matmul/sigmoid/sum kernels, the summed gradient broadcast into sigmoid's product,
    a generic op (mul) reading a kernel's buffer, and two paths into one leaf's gradient."""
    def run(compiled):
        w = tg.Tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3), requires_grad=True)

        def step(x):
            w.grad = None
            h = (tg.Tensor(x) @ w).sigmoid()
            loss = h.sum() + (h * w.sum()).sum()
            loss.backward()
            return loss, h

        f = replayed(step) if compiled else step
        xs = np.random.default_rng(2).standard_normal((5, 2, 4)).astype(np.float32)
        out = [(loss.item(), h.data.copy(), w.grad.data.copy()) for loss, h in map(f, xs)]
        return out, f

    (eager, _), (compiled, f) = run(False), run(True)
    assert f.jit.replays == 3 and "np.matmul(" in f.jit.tape_text()
    for (l1, h1, g1), (l2, h2, g2) in zip(eager, compiled):
        assert l1 == l2 and np.array_equal(h1, h2) and np.array_equal(g1, g2)


def test_a_kept_loss_and_output_keep_their_values():
    """`loss = step(x, y); step(x2, y2); loss.item()` is the first loss, as in eager mode:
    the replay writes a fresh buffer when the user still holds the last one."""
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        logits = model(tg.Tensor(x))
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, logits

    run = replayed(step)
    batches = data(8)
    for x, y in batches[:3]:
        run(x, y)
    kept = [run(x, y) for x, y in batches[3:]]  # every result kept
    values = [(loss.item(), logits.data.copy()) for loss, logits in kept]
    model2 = mlp()
    opt2 = optim.SGD(model2.parameters(), lr=0.1)
    for x, y in batches[:3]:
        sgd_step(model2, opt2)(x, y)
    for (x, y), (loss, logits) in zip(batches[3:], values):
        eager_logits = model2(tg.Tensor(x))
        eager_loss = F.cross_entropy(eager_logits, y)
        opt2.zero_grad()
        eager_loss.backward()
        opt2.step()
        assert loss == eager_loss.item() and np.array_equal(logits, eager_logits.data)
    assert len({id(loss.data) for loss, _ in kept}) == len(kept)  # never one shared array
    assert run.jit.renewed >= 2 * (len(kept) - 1)


def test_gradients_reuse_their_buffers_unless_kept():
    model = mlp()
    run = replayed(sgd_step(model, optim.SGD(model.parameters(), lr=0.1)))
    batches = data(10)
    for x, y in batches[:4]:
        run(x, y)
    renewed = run.jit.renewed
    for x, y in batches[4:6]:  # nothing kept: the buffers are reused
        run(x, y)
    assert run.jit.renewed == renewed
    weight = model[0].weight
    kept_tensor, kept_array = weight.grad, model[2].weight.grad.data
    before = kept_tensor.data.copy(), kept_array.copy()
    run(*batches[6])
    assert run.jit.renewed == renewed + 2  # those two buffers were written fresh
    assert np.array_equal(kept_tensor.data, before[0]) and np.array_equal(kept_array, before[1])
    assert weight.grad is not kept_tensor and not np.array_equal(weight.grad.data, before[0])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_either_way_and_grads_that_were_none(set_to_none):
    """zero_grad(set_to_none) inside the step, and a step run while .grad is None (as after
    a zero_grad outside it) or holds the user's own tensor."""
    def run(compiled):
        model = mlp("relu")
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.0)
        step = sgd_step(model, opt, set_to_none)
        f = replayed(step) if compiled else step
        out = []
        for k, (x, y) in enumerate(data(9)):
            if k == 5:
                opt.zero_grad(True)  # None before the step
            if k == 7:
                model[0].bias.grad = tg.Tensor(np.ones(10, np.float32))
            out.append(f(x, y).item())
        return out, [p.data.copy() for p in model.parameters()], \
            [p.grad.data.copy() for p in model.parameters()]

    (l1, p1, g1), (l2, p2, g2) = run(False), run(True)
    assert l1 == l2
    assert all(np.array_equal(a, b) for a, b in zip(p1 + g1, p2 + g2))


def test_two_jitted_steps_sharing_parameters():
    """Two compiled steps (different losses and batch sizes) on one model, interleaved, each
    keeping the other's gradients intact when the user holds them."""
    def run(compiled):
        model = mlp("tanh")
        opt = optim.SGD(model.parameters(), lr=0.1)
        first = sgd_step(model, opt)

        def second(x):
            opt.zero_grad()
            loss = model(tg.Tensor(x)).sum()
            loss.backward()
            opt.step()
            return loss

        f, g = (replayed(first), replayed(second)) if compiled else (first, second)
        out, kept = [], []
        for (x, y), (x2, _) in zip(data(7), data(7, n=3, seed=5)):
            out.append(f(x, y).item())
            kept.append(model[0].weight.grad)
            out.append(g(x2).item())
        return out, [p.data.copy() for p in model.parameters()], [k.data.copy() for k in kept]

    (l1, p1, k1), (l2, p2, k2) = run(False), run(True)
    assert l1 == l2
    assert all(np.array_equal(a, b) for a, b in zip(p1 + k1, p2 + k2))


def test_sgd_written_out_follows_the_groups_hyper_parameters():
    """The written-out plain SGD reads lr on every replay (a scheduler changes it) and gives
    way to the optimizer's general update when momentum is switched on."""
    def run(compiled):
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = sgd_step(model, opt)
        f = replayed(step) if compiled else step
        out = []
        for k, (x, y) in enumerate(data(10)):
            if k == 4:
                opt.param_groups[0]["lr"] = 0.03
            if k == 7:
                opt.param_groups[0]["momentum"] = 0.9
            out.append(f(x, y).item())
        state = [np.copy(s["momentum_buffer"]) for s in opt.state.values()]
        return out, [p.data.copy() for p in model.parameters()], state

    (l1, p1, s1), (l2, p2, s2) = run(False), run(True)
    assert l1 == l2 and len(s1) == len(s2) == 4
    assert all(np.array_equal(a, b) for a, b in zip(p1 + s1, p2 + s2))
