"""numpy functions on Tensors never silently cut the graph: they dispatch to registered ops
(recorded, differentiable) or raise a TypeError naming the function."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd import Tensor
from tinygrad_nd.array_protocol import FUNCTIONS, _ufunc_ops
from tinygrad_nd.registry import OPS, apply

UNARY = sorted((u.__name__, name) for u, name in _ufunc_ops().items() if u.nin == 1)
BINARY = sorted((u.__name__, name) for u, name in _ufunc_ops().items() if u.nin == 2)


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), dtype=dtype, requires_grad=True)


def grads_of(fn, *values):
    leaves = [leaf(v) for v in values]
    out = fn(*leaves)
    assert isinstance(out, Tensor), f"{fn} returned {type(out).__name__}, the graph is cut"
    weights = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
    (out * weights).sum().backward()
    return out.data, [t.grad.data for t in leaves]


def test_every_registered_ufunc_is_dispatched():
    names = {name for _, name in UNARY + BINARY}
    assert {"add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "tanh", "abs", "neg",
            "maximum", "minimum", "matmul"} <= names


@pytest.mark.parametrize("ufunc_name,op", UNARY)
def test_unary_ufunc_matches_the_op(ufunc_name, op):
    ufunc = getattr(np, ufunc_name)
    x = np.array([0.3, 1.7, 2.5])  # inside every unary op's domain
    via_numpy = grads_of(ufunc, x)
    via_op = grads_of(lambda t: apply(op, t), x)
    np.testing.assert_allclose(via_numpy[0], via_op[0])
    np.testing.assert_allclose(via_numpy[1][0], via_op[1][0])


@pytest.mark.parametrize("ufunc_name,op", BINARY)
def test_binary_ufunc_matches_the_op(ufunc_name, op):
    ufunc = getattr(np, ufunc_name)
    x, y = np.array([[0.5, 1.5], [2.0, 0.7]]), np.array([[1.2, 0.4], [0.9, 2.1]])
    via_numpy = grads_of(ufunc, x, y)
    via_op = grads_of(lambda a, b: apply(op, a, b), x, y)
    np.testing.assert_allclose(via_numpy[0], via_op[0])
    for a, b in zip(via_numpy[1], via_op[1]):
        np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.subtract, np.divide, np.maximum])
def test_array_on_the_left_is_recorded(ufunc):
    a = np.array([1.0, 2.0, 4.0])
    x = leaf([0.5, 1.0, 3.0])
    out = ufunc(a, x)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, ufunc(a, x.data))


@pytest.mark.parametrize("expr", [
    lambda a, x, m: a + x, lambda a, x, m: a * x, lambda a, x, m: a - x,
    lambda a, x, m: a / x, lambda a, x, m: a ** x, lambda a, x, m: np.float64(2.0) * x,
    lambda a, x, m: a @ m,
])
def test_operators_with_ndarray_first(expr):
    a = np.array([1.0, 2.0])
    x = leaf([0.5, 1.5])
    m = leaf([[1.0, 2.0], [3.0, 4.0]])
    out = expr(a, x, m)
    assert isinstance(out, Tensor) and out.requires_grad
    out.sum().backward()
    assert (x.grad is not None) or (m.grad is not None)


def test_np_exp_gives_the_right_gradient():
    """Failed before: np.exp(t) returned an ndarray and the gradient came out 0."""
    x = leaf([0.0, 1.0, -2.0])
    (np.exp(x) * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) * (1 + x.data))


@pytest.mark.parametrize("func,call", [
    (np.sum, lambda t: np.sum(t, axis=1, keepdims=True)),
    (np.mean, lambda t: np.mean(t, axis=0)),
    (np.max, lambda t: np.max(t, axis=1)),
    (np.amax, lambda t: np.amax(t)),
    (np.min, lambda t: np.min(t, axis=0)),
    (np.amin, lambda t: np.amin(t, axis=1, keepdims=True)),
    (np.var, lambda t: np.var(t, axis=1)),
    (np.std, lambda t: np.std(t)),
    (np.reshape, lambda t: np.reshape(t, (3, 2))),
    (np.transpose, lambda t: np.transpose(t)),
    (np.squeeze, lambda t: np.squeeze(np.expand_dims(t, 0))),
    (np.expand_dims, lambda t: np.expand_dims(t, 1)),
    (np.broadcast_to, lambda t: np.broadcast_to(t, (4, 2, 3))),
    (np.where, lambda t: np.where(np.array([[True, False, True]] * 2), t, 0.0)),
    (np.concatenate, lambda t: np.concatenate([t, t * 2], axis=1)),
    (np.stack, lambda t: np.stack([t, t], axis=0)),
    (np.clip, lambda t: np.clip(t, 0.5, 2.0)),
    (np.dot, lambda t: np.dot(t, np.ones((3, 2)))),
])
def test_array_functions_are_differentiable(func, call):
    assert func in FUNCTIONS
    values = np.array([[0.3, 1.1, 2.9], [1.7, 0.2, 2.4]])
    out_np = call(values)
    out, (grad,) = grads_of(call, values)
    np.testing.assert_allclose(out, out_np)
    # the same gradient as central differences of sum(out * weights)
    weights = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
    numeric = np.zeros_like(values)
    for i in np.ndindex(values.shape):
        step = np.zeros_like(values)
        step[i] = 1e-6
        numeric[i] = ((call(values + step) * weights).sum()
                      - (call(values - step) * weights).sum()) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("call", [
    lambda t: np.cbrt(t), lambda t: np.cumsum(t), lambda t: np.sort(t),
    lambda t: np.linalg.norm(t), lambda t: np.exp(t, dtype=np.float64),
    lambda t: np.sum(t, dtype=np.float64), lambda t: np.prod(t), lambda t: np.add.accumulate(t),
    lambda t: np.concatenate([t, t], axis=None), lambda t: np.clip(t, np.zeros(3), 1.0),
])
def test_no_equivalent_raises_a_type_error_naming_the_function(call):
    """Failed before: these returned plain ndarrays, silently cutting the graph."""
    x = leaf([0.5, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"np\.\w+.*requires grad"):
        call(x)


@pytest.mark.parametrize("call,expected", [
    (lambda t: np.sin(t), np.sin([0.5, 1.0, 2.0])),
    (lambda t: np.cumsum(t), [0.5, 1.5, 3.5]),
    (lambda t: np.sort(t)[::-1], [2.0, 1.0, 0.5]),
])
def test_without_a_gradient_numpy_computes_on_values(call, expected):
    x = leaf([0.5, 1.0, 2.0])
    np.testing.assert_allclose(call(x.detach()), expected)
    with tg.no_grad():
        np.testing.assert_allclose(call(x), expected)


@pytest.mark.parametrize("call", [np.isfinite, np.isnan, np.signbit,
                                  lambda t: np.less(t, 1.0), lambda t: np.argmax(t),
                                  lambda t: np.nonzero(t), lambda t: np.array_equal(t, t),
                                  lambda t: np.allclose(t, t), lambda t: np.shape(t)])
def test_results_without_gradient_are_allowed_on_tracked_tensors(call):
    x = leaf([0.5, -1.0, 2.0])
    call(x)  # bool / int results carry no gradient: nothing is cut, nothing raises


def test_out_into_a_tensor_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="out=tensor"):
        np.exp(x, out=x)


def test_in_place_on_ndarray_with_a_tracked_tensor_is_refused():
    a = np.zeros(2)
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="requires grad"):
        a += x  # numpy would write the value and drop the gradient


def test_asarray_and_numpy_still_give_values():
    x = leaf([1.0, 2.0])
    assert type(np.asarray(x)) is np.ndarray and x.numpy() is x.data
    np.testing.assert_allclose(np.array(x), [1.0, 2.0])


def test_a_newly_registered_op_with_a_ufunc_reference_is_dispatched():
    from tinygrad_nd.autograd import Function
    from tinygrad_nd.registry import register_op

    @register_op("sin_protocol_example", nin=1, reference=np.sin)
    class Sin(Function):
        """y = sin x;  dy/dx = cos x"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (g * Tensor(np.cos(x.data)),)

    try:
        x = leaf([0.1, 0.2])
        y = np.sin(x)
        assert y.op == "sin_protocol_example"
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, np.cos([0.1, 0.2]))
    finally:
        OPS.pop("sin_protocol_example")


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=6),
       st.sampled_from([np.exp, np.tanh, np.negative, np.absolute]))
def test_numpy_written_code_runs_on_arrays_and_tensors_alike(values, ufunc):
    """HIPS autograd's idea: one body, numpy on arrays, recorded on Tensors."""
    def body(v):
        return np.sum(np.where(v > 0, ufunc(v) * v, v * 0.5), axis=0)

    arr = np.array(values)
    x = leaf(values)
    out = body(x)
    np.testing.assert_allclose(out.data, body(arr), rtol=1e-12)
    out.backward()
    assert x.grad is not None and np.isfinite(x.grad.data).all()
