"""The backward engine: ordering, accumulation, graph release, grad mode, hooks, versions."""

import gc
import warnings

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import Tensor


def test_readme_example_runs_and_gives_tensor_grads():
    x = Tensor(np.random.randn(4, 3), requires_grad=True)
    w = Tensor(np.random.randn(3, 2), requires_grad=True)
    loss = (x @ w).sigmoid().log().mean()
    loss.backward()
    assert isinstance(x.grad, Tensor) and x.grad.shape == (4, 3) and w.grad.shape == (3, 2)
    assert x.dtype == np.float32 and x.grad.dtype == np.float32


def test_chain_of_100k_ops_backprops_without_recursion():
    x = Tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0000001 ** 100_000], rtol=1e-9)


def test_tensor_used_twice_accumulates():
    x = Tensor([2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 7.0])


def test_grad_accumulates_across_backward_calls_until_cleared():
    x = Tensor([1.0], requires_grad=True)
    (3 * x).sum().backward()
    (3 * x).sum().backward()
    assert x.grad.item() == 6.0
    x.grad = None
    (3 * x).sum().backward()
    assert x.grad.item() == 3.0


def test_intermediates_get_no_grad_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = h * 3
    k.retain_grad()
    (k * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.data, 2 * k.data)


def test_non_scalar_backward_needs_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs.*shape \\(2,\\)"):
        y.backward()
    y.backward(gradient=np.array([1.0, -1.0]))


def test_second_backward_through_freed_graph_raises_clearly():
    x = Tensor([1.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = Tensor([1.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 2 * np.e, rtol=1e-6)


def test_saved_buffers_are_released_after_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.sigmoid()
    z = (y * x).sum()
    z.backward()
    ctx = y._ctx
    assert ctx._freed and ctx._saved is None and getattr(ctx, "_output_data", None) is None
    assert ctx.inputs[0] is x  # graph structure stays for drawing


def test_no_grad_context_and_decorator():
    w = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert not (w * 2).requires_grad
        with tg.enable_grad():
            assert (w * 2).requires_grad

    @tg.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad and (w * 2).requires_grad


def test_grad_mode_is_per_thread():
    import threading

    w = Tensor([1.0], requires_grad=True)
    inside_no_grad, may_continue, seen = threading.Event(), threading.Event(), {}

    def evaluate():
        with tg.no_grad():
            inside_no_grad.set()
            may_continue.wait(timeout=10)
            seen["evaluation records"] = (w * 2).requires_grad

    thread = threading.Thread(target=evaluate)
    thread.start()
    assert inside_no_grad.wait(timeout=10)
    seen["training records"] = (w * 2).requires_grad  # while the other thread is in no_grad
    may_continue.set()
    thread.join()
    assert seen == {"evaluation records": False, "training records": True}


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors.*int64"):
        Tensor([1, 2], requires_grad=True)


def test_in_place_change_of_saved_tensor_is_detected():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = Tensor([3.0, 4.0])
    y = (x * a).sum()
    a.add_(1.0)
    with pytest.raises(RuntimeError, match="mul: the input 1 .*modified in place"):
        y.backward()


@pytest.mark.parametrize("op", ["exp", "sigmoid", "relu"])  # Tensor path, numpy fast paths
def test_in_place_change_of_saved_output_is_detected(op):
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = getattr(x, op)()
    with tg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match=f"{op}: the output .*modified in place"):
        y.sum().backward()


@pytest.mark.parametrize("build", [
    lambda x, w: x @ w,                              # matmul's first-order fast path
    lambda x, w: tg.nn.functional.linear(x, w, tg.zeros(2)),  # linear's
])
def test_in_place_change_is_detected_by_numpy_fast_paths_too(build):
    x, w = Tensor(np.ones((3, 2))), Tensor(np.ones((2, 2)), requires_grad=True)
    y = build(x, w).sum()
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="the input 0 .*modified in place"):
        y.backward()


def test_in_place_on_tensor_requiring_grad_is_refused_outside_no_grad():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: in-place change"):
        w.add_(1.0)
    with tg.no_grad():
        w.add_(1.0)
    assert w.item() == 2.0


def test_hessian_vector_product_with_create_graph():
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    f = (x ** 3).sum() + (x[0] * x[1])
    (g,) = tg.grad(f, x, create_graph=True)
    v = Tensor([1.0, -1.0], dtype=np.float64)
    (hv,) = tg.grad((g * v).sum(), x)
    hessian = np.array([[6 * 1.0, 1.0], [1.0, 6 * 2.0]])
    np.testing.assert_allclose(hv.data, hessian @ v.data)


def test_gradient_penalty_backward_reaches_parameters():
    w = Tensor([[0.5, -1.0]], dtype=np.float64, requires_grad=True)
    x = Tensor([[1.0], [2.0]], dtype=np.float64, requires_grad=True)
    out = (w @ x).tanh().sum()
    (gx,) = tg.grad(out, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    assert w.grad is not None and np.isfinite(w.grad.data).all()
    assert tg.gradcheck(lambda w: (tg.grad((w @ x).tanh().sum(), x, create_graph=True)[0] ** 2)
                        .sum(), (w,))


def test_grad_does_not_touch_dot_grad_and_reports_unused():
    x = Tensor([1.0], requires_grad=True)
    z = Tensor([1.0], requires_grad=True)
    (gx,) = tg.grad((x * 2).sum(), x)
    assert gx.item() == 2.0 and x.grad is None
    with pytest.raises(RuntimeError, match="input 1 .*not used"):
        tg.grad((x * 2).sum(), [x, z])
    assert tg.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


def test_leaves_sharing_one_gradient_array_get_independent_grads():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    with tg.no_grad():
        a.grad.mul_(10.0)
    assert b.grad.item() == 1.0


def test_dtype_is_preserved_through_ops_and_grads():
    for dtype in (np.float32, np.float64):
        x = Tensor(np.ones((2, 3)), dtype=dtype, requires_grad=True)
        y = (x * 2.5 + 1).sigmoid().sum(axis=0).mean()
        assert y.dtype == dtype
        y.backward()
        assert x.grad.dtype == dtype


def test_int_and_float_mix_computes_in_float32():
    labels = Tensor([1, 2, 3])
    x = Tensor([0.5, 0.5, 0.5], requires_grad=True)
    assert (x * labels).dtype == np.float32 and (labels * x).dtype == np.float32
    assert (labels * 0.5).dtype == np.float32


def test_training_step_creates_no_reference_cycles():
    w = Tensor(np.random.randn(5, 3), requires_grad=True)
    x = Tensor(np.random.randn(8, 5))
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            loss = (x @ w).tanh().log_softmax(axis=1).mean()
            loss.backward()
            with tg.no_grad():
                w.sub_(w.grad, alpha=0.1)
            w.grad = None
        del loss
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("shape", [(200, 10), (64, 3), (10, 10), (5, 40)])
def test_softmax_and_cross_entropy_over_few_classes_match_numpy(shape):
    # (200, 10) and (64, 3) take reduce_keepdims' transposed path, the others numpy's own.
    from tinygrad_nd.ops._util import reduce_keepdims

    x = np.random.default_rng(0).normal(size=shape) * 30
    for ufunc, reduce in ((np.maximum, np.max), (np.add, np.sum)):
        np.testing.assert_allclose(reduce_keepdims(ufunc, x, 1), reduce(x, axis=1, keepdims=True),
                                   rtol=1e-12)
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    t = Tensor(x, dtype=np.float64)
    np.testing.assert_allclose(t.log_softmax(axis=1).data, logp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.softmax(axis=-1).data, np.exp(logp), rtol=1e-12, atol=1e-300)
    target = np.arange(shape[0]) % shape[1]
    np.testing.assert_allclose(tg.nn.functional.cross_entropy(t, target).item(),
                               -logp[np.arange(shape[0]), target].mean(), rtol=1e-12)


def test_stable_softmax_and_sigmoid_at_1e4_without_warnings():
    x = Tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = x.softmax(axis=1)
        ls = x.log_softmax(axis=1)
        sg = x.sigmoid()
        sp = x.softplus()
        el = x.elu()
        (s.sum() + ls.sum() + sg.sum() + sp.sum() + el.sum()).backward()
    np.testing.assert_allclose(s.data[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(s.data[1], [1 / 3] * 3, rtol=1e-6)
    assert np.isfinite(ls.data).all() and ls.data[0, 1] == -2e4
    np.testing.assert_allclose(sg.data[0], [1.0, 0.0, 0.5])
    assert np.isfinite(x.grad.data).all()


def test_in_place_change_seen_through_a_view():
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    y = (x @ w.T).sum()  # matmul saves the transposed view of w
    with tg.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_first_order_pass_keeps_zero_dim_gradients_as_arrays():
    """Two 0-d gradients meeting at one tensor add to a numpy scalar; the pass must keep
    arrays, so the next op's backward takes its numpy path (and gives the right answer)."""
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x.sum() * Tensor(2.0, dtype=np.float64)
    seen = []
    with tg.autograd.observe(backward=lambda ctx, g, grads: seen.append(type(g))):
        (y * y).backward()
    np.testing.assert_allclose(x.grad.data, [24.0, 24.0])
    assert type(x.grad.data) is np.ndarray
    assert seen and all(t is np.ndarray for t in seen)


def test_optimizer_step_between_forward_and_backward_is_detected():
    """The in-place epoch that lets saved-buffer checks be skipped must move with the
    optimizer's in-place updates too."""
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    x = Tensor(np.ones((3, 2)), requires_grad=True)
    y = (x @ w).sum()  # matmul saves w for x's gradient
    w.grad = Tensor(np.ones((2, 2)))
    tg.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="matmul: the input 1 .*modified in place"):
        y.backward()


def test_in_place_change_of_an_unrelated_tensor_does_not_block_backward():
    """An in-place change anywhere moves the epoch; the per-input check then finds the
    saved buffers unchanged and the gradient is right."""
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    a = Tensor([3.0, 4.0], dtype=np.float64)
    y = (x * a).sum()
    Tensor([0.0]).add_(1.0)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])


def test_backward_finishes_each_tensor_after_every_op_that_used_it():
    """The walk takes ops newest first; tensors used by ops built in an interleaved order
    (not the order a depth-first sort would give) still receive their whole gradient."""
    x = Tensor([0.5, -1.5], dtype=np.float64, requires_grad=True)
    a = x * 2.0
    b = x.exp()
    c = a * b  # uses a and b
    d = b + c  # uses b again, after c
    e = (a * d).sum()  # uses a again, last
    order = tg.engine.backward_order([e])
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        for inp in (t._ctx.inputs if t._ctx is not None else ()):
            if inp.requires_grad:
                assert position[id(inp)] > position[id(t)]  # inputs are finished after users
    e.backward()
    v = x.data
    ex = np.exp(v)
    # e = 2x (e^x + 2x e^x) = 2x e^x + 4x^2 e^x
    np.testing.assert_allclose(x.grad.data, 2 * ex + 2 * v * ex + 8 * v * ex + 4 * v * v * ex)


def test_a_released_tensor_used_by_two_ops_is_one_placeholder():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    loss = (h * 2.0 + h.sin()).sum()
    del h
    loss.backward()
    add = loss._ctx.inputs[0]._ctx  # (h * 2) + sin(h)
    mul, sin = add.inputs[0]._ctx, add.inputs[1]._ctx
    assert mul.inputs[0] is sin.inputs[0]  # one node for h, described once
    assert mul.inputs[0].shape == (2,) and mul.inputs[0]._ctx.op_name == "exp"
