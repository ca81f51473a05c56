"""Memory: after backward() without retain_graph the graph holds no intermediate arrays; a
kept loss does not pin its step's activations; graphs are freed by reference counting."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import Tensor, nn, optim
from tinygrad_nd.viz import collect


def mlp():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.Sigmoid(),
                         nn.Linear(100, 10))


def batch(i, n=64):
    rng = np.random.default_rng(i)
    return rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n)


def intermediate_bytes(root):
    """Bytes of array memory held by the non-leaf tensors reachable from ``root``."""
    nodes, _, _ = collect([root])
    total = 0
    for t in nodes[1:]:  # the root itself is the user's
        if t._ctx is not None:
            held = t.data if t.data.base is None else t.data.base
            total += held.nbytes if all(s for s in t.data.strides) or t.data.ndim == 0 else 0
    return total


@pytest.mark.parametrize("loss_fn", ["cross_entropy", "mse"])
def test_a_kept_loss_holds_no_intermediate_arrays(loss_fn):
    """Failed before: the graph's inputs kept every activation of the step alive."""
    model = mlp()
    x, y = batch(0)
    out = model(Tensor(x))
    loss = (nn.functional.cross_entropy(out, y) if loss_fn == "cross_entropy"
            else nn.functional.mse_loss(out, np.zeros((64, 10), np.float32)))
    assert intermediate_bytes(loss) > 100_000  # activations are there before backward
    loss.backward()
    assert intermediate_bytes(loss) == 0


def test_memory_per_kept_loss_is_small():
    model = mlp()
    batches = [batch(i) for i in range(12)]
    inputs = [Tensor(x) for x, _ in batches]  # the data is the user's, not the graph's

    def step(i):
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs[i]), batches[i][1])
        loss.backward()
        return loss

    step(11)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = [step(i) for i in range(10)]
        gc.collect()
        per_loss = (tracemalloc.get_traced_memory()[0] - base) / len(kept)
    finally:
        tracemalloc.stop()
    activations = 64 * (100 + 100 + 100 + 100 + 10 + 10) * 4  # outputs of the 5 layers + softmax
    assert per_loss < activations / 2, (per_loss, activations)


def test_placeholders_keep_the_graph_drawable_but_read_only():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    h = x.exp()
    y = (h * 2).sum()
    y.backward()
    (mul_input, _) = y._ctx.inputs[0]._ctx.inputs
    assert mul_input is not h and mul_input.op == "exp" and mul_input.shape == (3, 4)
    assert not mul_input.data.flags.writeable and mul_input.data.strides == (0, 0)
    np.testing.assert_allclose(h.data, np.e)  # what the user holds keeps its values
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_keeps_values_for_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_create_graph_retains_the_graph_by_default_for_a_hessian_vector_product():
    """PyTorch: retain_graph defaults to create_graph."""
    x = Tensor([0.3, -0.7, 1.2], dtype=np.float64, requires_grad=True)
    v = np.array([1.0, 2.0, -1.0])
    x.tanh().sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    (g * Tensor(v)).sum().backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad.data, -2 * t * (1 - t * t) * v)


def test_grad_with_create_graph_also_retains():
    x = Tensor([0.5, 1.5], dtype=np.float64, requires_grad=True)
    y = (x ** 3).sum()
    (dx,) = tg.grad(y, x, create_graph=True)
    (ddx,) = tg.grad((dx * dx).sum(), x)
    np.testing.assert_allclose(ddx.data, 2 * 3 * x.data ** 2 * 6 * x.data)


def test_nodes_that_receive_no_gradient_are_released_too():
    x = Tensor([1.0, 2.0], requires_grad=True)
    unused = x.exp()  # requires grad, but y's gradient never reaches it through `where`
    y = tg.where(np.array([True, True]), x, unused).sum()
    y.backward()
    assert unused._ctx._freed


def test_a_dropped_graph_is_freed_without_the_cycle_collector():
    model = mlp()
    x, y = batch(1)
    gc.disable()
    try:
        gc.collect()
        loss = nn.functional.cross_entropy(model(Tensor(x)), y)
        probe = weakref.ref(loss._ctx.inputs[0])
        loss.backward()
        del loss
        assert probe() is None
        opt = optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            nn.functional.cross_entropy(model(Tensor(x)), y).backward()
            opt.step()
        assert gc.collect() == 0  # no reference cycles were made by a training step
    finally:
        gc.enable()


def test_many_steps_keep_memory_flat():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 4))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x, y = Tensor(rng.standard_normal((8, 20)).astype(np.float32)), rng.integers(0, 4, 8)
    losses = []

    def steps(n):
        for _ in range(n):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))

    steps(200)
    tracemalloc.start()
    try:
        steps(200)
        middle = tracemalloc.get_traced_memory()[0]
        steps(1000)
        end = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # the float list grows by ~32 bytes a step; anything a step leaked would be far more
    assert end - middle < 1000 * 100, end - middle


def test_gradient_of_a_gradient_through_a_shared_saved_output():
    """Failed before: a node reached by no gradient was released at once, but the output
    re-attached for grad-of-grad shares its context (found by the layers work)."""
    x = Tensor([0.3, -0.8, 1.1], dtype=np.float64, requires_grad=True)
    y = (x.tanh() * x.tanh()).sum()
    (g,) = tg.grad(y, [x], create_graph=True, retain_graph=True)
    (g * g).sum().backward()
    t = np.tanh(x.data)
    gx = 2 * t * (1 - t * t)
    dgx = 2 * (1 - t * t) * (1 - 3 * t * t)
    np.testing.assert_allclose(x.grad.data, 2 * gx * dgx)
