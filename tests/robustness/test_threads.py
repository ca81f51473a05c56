"""Threads: gradient accumulation into shared leaves and engine observers are thread-safe."""

import sys
import threading
import warnings

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import Tensor, nn, optim
from tinygrad_nd.autograd import observe
from tinygrad_nd.diagnostics import grad_health


def run_in_threads(target, n=2, args=()):
    errors = []

    def wrapped(i):
        try:
            target(i, *args)
        except BaseException as e:  # noqa: BLE001 - reported to the test below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@pytest.fixture
def fast_switching():
    """Switch threads every few bytecodes, so a racy read-modify-write shows up at once."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_two_threads_backpropagating_into_one_leaf_lose_no_update(fast_switching, shape):
    """Failed before: ~3,300 of 4,000 updates landed."""
    w = Tensor(np.zeros(shape), dtype=np.float64, requires_grad=True)
    steps = 2000

    def work(i):
        for _ in range(steps):
            (w * 1.0 + 1.0).sum().backward()

    assert run_in_threads(work) == []
    np.testing.assert_array_equal(w.grad.data, np.full(shape, 2.0 * steps))


def test_create_graph_accumulation_is_thread_safe_too(fast_switching):
    w = Tensor([1.0], dtype=np.float64, requires_grad=True)

    def work(i):
        for _ in range(300):
            (w * w).sum().backward(create_graph=True)

    assert run_in_threads(work) == []
    np.testing.assert_allclose(w.grad.data, [2.0 * 600])


def test_grad_health_raising_in_one_thread_does_not_abort_another():
    """Failed before: the observers were global, so thread 1's backward raised
    FloatingPointError from thread 0's grad_health(action='raise')."""
    entered, done = threading.Event(), threading.Event()
    outcome = {}

    def watched(i):
        with grad_health(action="raise"):
            entered.set()
            done.wait(timeout=60)

    def unwatched(i):
        entered.wait(timeout=60)
        try:
            x = Tensor([0.0], requires_grad=True)
            x.sqrt().sum().backward()  # an infinite gradient: grad_health would raise here
            outcome["grad"] = x.grad.data.copy()
        finally:
            done.set()

    threads = [threading.Thread(target=watched, args=(0,)),
               threading.Thread(target=unwatched, args=(1,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert np.isinf(outcome["grad"]).all()


def test_grad_health_still_raises_in_its_own_thread():
    x = Tensor([0.0], requires_grad=True)
    with pytest.raises(FloatingPointError, match="sqrt"), grad_health(action="raise"):
        x.sqrt().sum().backward()


def test_observers_see_only_their_own_thread():
    seen = {0: [], 1: []}
    barrier = threading.Barrier(2)

    def work(i):
        with observe(forward=lambda fn, inputs, out: seen[i].append(fn.op_name)):
            barrier.wait(timeout=60)
            x = Tensor([1.0])
            for _ in range(50):
                x = x.exp() if i == 0 else x.tanh()
            barrier.wait(timeout=60)

    assert run_in_threads(work) == []
    assert set(seen[0]) == {"exp"} and len(seen[0]) == 50
    assert set(seen[1]) == {"tanh"} and len(seen[1]) == 50


def test_observe_blocks_nest_and_unwind_in_any_order():
    calls = []
    first = observe(forward=lambda *a: calls.append("a"))
    second = observe(forward=lambda *a: calls.append("b"))
    first.__enter__()
    second.__enter__()
    first.__exit__()  # closed out of order: only its own callback goes
    Tensor([1.0]).exp()
    second.__exit__()
    Tensor([1.0]).exp()
    assert calls == ["b"]


def test_record_grads_in_one_thread_leaves_another_threads_graph_alone():
    from tinygrad_nd import viz

    graphs = {}
    barrier = threading.Barrier(2)

    def work(i):
        x = Tensor([1.0, 2.0], requires_grad=True)
        y = (x * 3).sum()
        barrier.wait(timeout=60)
        if i == 0:
            with viz.record_grads():
                y.backward()
        else:
            y.backward()
        graphs[i] = y

    assert run_in_threads(work) == []
    assert viz.recorded_norm(graphs[0]) is not None
    assert viz.recorded_norm(graphs[1]) is None


def test_no_grad_in_one_thread_does_not_switch_off_another():
    barrier = threading.Barrier(2)
    recorded = {}

    def work(i):
        x = Tensor([1.0], requires_grad=True)
        if i == 0:
            with tg.no_grad():
                barrier.wait(timeout=60)
                recorded[i] = (x * 2).requires_grad
                barrier.wait(timeout=60)
        else:
            barrier.wait(timeout=60)
            recorded[i] = (x * 2).requires_grad
            barrier.wait(timeout=60)

    assert run_in_threads(work) == []
    assert recorded == {0: False, 1: True}


_BUILD = threading.Lock()  # the global generator is shared: build models one at a time


def _train(seed, steps=30):
    with _BUILD:
        tg.manual_seed(seed)
        model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 3, 16)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(Tensor(x)), y)
        loss.backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()]


def test_two_trainers_in_threads_match_sequential_runs(fast_switching):
    expected = {i: _train(i) for i in range(2)}
    got = {}

    def work(i):
        got[i] = _train(i)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_in_threads(work) == []
    for i in range(2):
        for a, b in zip(got[i], expected[i]):
            np.testing.assert_array_equal(a, b)


def test_module_tracing_labels_only_the_entering_threads_graph():
    from tinygrad_nd.tracing import module_label, trace_modules

    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    outputs = {}
    barrier = threading.Barrier(2)

    def work(i):
        x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
        if i == 0:
            with trace_modules(model):
                barrier.wait(timeout=60)
                outputs[i] = model(x)
                barrier.wait(timeout=60)
        else:
            barrier.wait(timeout=60)
            outputs[i] = model(x)
            barrier.wait(timeout=60)

    assert run_in_threads(work) == []
    assert module_label(outputs[0]._ctx) == "1 (Tanh)"
    assert module_label(outputs[1]._ctx) is None
