"""dtypes that silently differed: layer dtype=, Parameter, var/std without degrees of freedom,
complex and other unsupported values (refused everywhere with a TypeError)."""

import inspect
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.testing import assert_grad_close

# ---- item 8: layers and Parameter honour float dtypes --------------------------------------

LAYERS = {
    "Linear": lambda dtype: nn.Linear(3, 2, dtype=dtype),
    "Linear-nobias": lambda dtype: nn.Linear(3, 2, bias=False, dtype=dtype),
    "Conv2d": lambda dtype: nn.Conv2d(2, 4, 3, groups=2, dtype=dtype),
    "BatchNorm1d": lambda dtype: nn.BatchNorm1d(3, dtype=dtype),
    "BatchNorm2d": lambda dtype: nn.BatchNorm2d(3, dtype=dtype),
    "BatchNorm2d-noaffine": lambda dtype: nn.BatchNorm2d(3, affine=False, dtype=dtype),
    # layers of the PyTorch-parity work (issue #14)
    "BatchNorm3d": lambda dtype: nn.BatchNorm3d(3, dtype=dtype),
    "InstanceNorm1d": lambda dtype: nn.InstanceNorm1d(3, affine=True, dtype=dtype),
    "InstanceNorm2d": lambda dtype: nn.InstanceNorm2d(3, affine=True, track_running_stats=True,
                                                      dtype=dtype),
    "LayerNorm": lambda dtype: nn.LayerNorm(3, dtype=dtype),
    "GroupNorm": lambda dtype: nn.GroupNorm(1, 3, dtype=dtype),
    "Embedding": lambda dtype: nn.Embedding(5, 3, dtype=dtype),
    "RNN": lambda dtype: nn.RNN(3, 2, dtype=dtype),
    "LSTM": lambda dtype: nn.LSTM(3, 2, proj_size=1, dtype=dtype),
    "GRU": lambda dtype: nn.GRU(3, 2, bidirectional=True, dtype=dtype),
    "RNNCell": lambda dtype: nn.RNNCell(3, 2, dtype=dtype),
    "LSTMCell": lambda dtype: nn.LSTMCell(3, 2, dtype=dtype),
    "GRUCell": lambda dtype: nn.GRUCell(3, 2, dtype=dtype),
    "MultiheadAttention": lambda dtype: nn.MultiheadAttention(4, 2, kdim=3, dtype=dtype),
}
INPUTS = {"Linear": (4, 3), "Conv2d": (2, 2, 5, 5), "BatchNorm1d": (4, 3),
          "BatchNorm2d": (4, 3, 2, 2), "BatchNorm3d": (4, 3, 2, 2, 2), "InstanceNorm1d": (2, 3, 4),
          "InstanceNorm2d": (2, 3, 2, 2), "LayerNorm": (2, 3), "GroupNorm": (2, 3, 2),
          "RNN": (5, 2, 3), "LSTM": (5, 2, 3), "GRU": (5, 2, 3), "RNNCell": (2, 3),
          "LSTMCell": (2, 3), "GRUCell": (2, 3)}
# convolution layers of other ranks and transposed (p14-conv)
LAYERS.update({
    "Conv1d": lambda dtype: nn.Conv1d(2, 4, 3, dtype=dtype),
    "Conv3d": lambda dtype: nn.Conv3d(2, 2, 2, dtype=dtype),
    "ConvTranspose1d": lambda dtype: nn.ConvTranspose1d(2, 4, 3, stride=2, dtype=dtype),
    "ConvTranspose2d": lambda dtype: nn.ConvTranspose2d(2, 4, 3, groups=2, dtype=dtype),
    "ConvTranspose3d": lambda dtype: nn.ConvTranspose3d(2, 1, 2, bias=False, dtype=dtype),
})
INPUTS.update({"Conv1d": (2, 2, 7), "Conv3d": (2, 2, 3, 4, 3), "ConvTranspose1d": (2, 2, 4),
               "ConvTranspose2d": (2, 2, 3, 3), "ConvTranspose3d": (1, 2, 2, 2, 2)})


def _run(layer, name, dtype):
    """The layer's (first) output on inputs of ``dtype``."""
    if name == "Embedding":
        return layer(np.array([0, 4]))
    if name == "MultiheadAttention":
        q, kv = tg.randn(3, 2, 4, dtype=dtype), tg.randn(5, 2, 3, dtype=dtype)
        return layer(q, kv, tg.randn(5, 2, 4, dtype=dtype))[0]
    out = layer(tg.randn(*INPUTS[name], dtype=dtype))
    return out[0] if isinstance(out, tuple) else out


def _float_state(layer):
    """The state dict without BatchNorm's integer ``num_batches_tracked`` (int64 in PyTorch)."""
    state = layer.state_dict()
    assert all(v.dtype == np.int64 for k, v in state.items() if k.endswith("num_batches_tracked"))
    return {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}


def test_every_layer_taking_dtype_is_covered():
    takes_dtype = {name for name, cls in vars(nn).items()
                   if inspect.isclass(cls) and issubclass(cls, nn.Module)
                   and "dtype" in inspect.signature(cls).parameters}
    assert takes_dtype == {name.split("-")[0] for name in LAYERS}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_layer_parameters_buffers_and_output_take_the_requested_dtype(name, dtype):
    layer = LAYERS[name](dtype)
    state = _float_state(layer)
    assert state and all(v.dtype == np.dtype(dtype) for v in state.values()), \
        {k: v.dtype for k, v in state.items()}
    assert all(p.dtype == np.dtype(dtype) for p in layer.parameters())
    if dtype != np.float16:
        assert _run(layer, name.split("-")[0], dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_dtype_none_is_the_default_dtype(name):
    assert all(v.dtype == np.float32 for v in _float_state(LAYERS[name](None)).values())
    tg.set_default_dtype(np.float64)  # (the conftest fixture restores float32)
    assert all(v.dtype == np.float64 for v in _float_state(LAYERS[name](None)).values())


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.uint8, np.complex128,
                                   object, "U3"])
def test_layer_with_a_non_float_dtype_raises_naming_layer_and_dtype(name, dtype):
    with pytest.raises(TypeError, match=rf"{name.split('-')[0]}: .*{np.dtype(dtype)}"):
        LAYERS[name](dtype)


def test_float64_linear_matches_torch_to_float64_precision():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 2, dtype=np.float64)
    ref = torch.nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.data))
        ref.bias.copy_(torch.from_numpy(layer.bias.data))
    x = np.random.default_rng(0).standard_normal((4, 3)) * 1e3
    np.testing.assert_allclose(layer(tg.Tensor(x, dtype=np.float64)).data,
                               ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-13)


@pytest.mark.parametrize("data, expected", [
    (np.zeros(2), np.float64), (np.zeros(2, np.float32), np.float32),
    (np.zeros(2, np.float16), np.float16), (tg.zeros(2, dtype=np.float64), np.float64),
    (np.float64(1.5), np.float64), ([1.0, 2.0], np.float32), (2.0, np.float32)])
def test_parameter_keeps_a_float_arrays_dtype(data, expected):
    p = nn.Parameter(data)
    assert p.dtype == expected and p.requires_grad


def test_parameter_with_explicit_dtype_and_integer_data():
    assert nn.Parameter(np.zeros(2), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        nn.Parameter(np.arange(3))
    assert nn.Parameter(np.arange(3), requires_grad=False).dtype == np.int64


@pytest.mark.parametrize("init", [nn.init.normal_, nn.init.uniform_, nn.init.xavier_uniform_,
                                  nn.init.kaiming_normal_])
def test_initialisers_refuse_integer_tensors_instead_of_truncating(init):
    with pytest.raises(TypeError, match=r"init: .*int64"):
        init(tg.zeros(3, 3, dtype=np.int64))


def test_initialisers_keep_float64():
    t = nn.init.normal_(tg.zeros(3, 3, dtype=np.float64))
    assert t.dtype == np.float64 and np.unique(t.data).size == 9


# ---- item 9: var/std -----------------------------------------------------------------------

VAR_CASES = [([2.0], 1), ([1.0, 2.0], 2), ([1.0, 2.0, 3.0], 3), ([2.0, 2.0], 2),
             ([1.0, 2.0, 4.0], 1), ([1.0], 0), ([1.0], 2), ([3.0, 3.0], 1), ([1.0, 5.0], 5),
             ([1.0, 2.0, 4.0], -1), ([1.0, 2.0, 4.0], 0.5)]


def _torch_var(torch, x, op, correction, dims, keepdims=False, upstream=None):
    """PyTorch's var/std and gradient. For correction > n PyTorch clamps the divisor at 0 in
    the forward (inf/nan) but differentiates with the negative divisor (a finite gradient of
    an infinite value); tinygrad_nd differentiates what it computed, which is PyTorch's
    answer for correction == n, so that is the reference there."""
    n = int(np.prod([np.shape(x)[d] for d in dims]))
    correction = min(correction, n)
    t = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = getattr(t, op)(dim=dims, correction=correction, keepdim=keepdims)
        out.backward(torch.ones_like(out) if upstream is None else torch.from_numpy(upstream))
    return out.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("data, correction", VAR_CASES)
def test_var_std_value_and_gradient_match_torch_with_no_numpy_warning(op, data, correction):
    torch = pytest.importorskip("torch")
    x = np.array(data)
    expected, expected_grad = _torch_var(torch, x, op, correction, (0,))
    t = tg.Tensor(x, dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(t, op)(correction=correction)
        out.backward()
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_allclose(t.grad.data, expected_grad, rtol=1e-12)  # (nan == nan here)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], \
        [str(w.message) for w in caught]
    no_dof = len(data) - correction <= 0
    assert [str(w.message) for w in caught if w.category is UserWarning] == (
        [f"{op}: no degrees of freedom left (n={len(data)} elements reduced, correction="
         f"{correction}); the result is inf, or nan where all values are equal, as in PyTorch"]
        if no_dof else [])


def test_var_of_one_element_with_ddof_1_is_nan_not_zero():
    with pytest.warns(UserWarning, match="var: no degrees of freedom"):
        assert np.isnan(tg.Tensor([2.0]).var(ddof=1).item())
    with pytest.warns(UserWarning, match="std: no degrees of freedom"):
        assert tg.Tensor([1.0, 3.0]).std(ddof=2).item() == np.inf


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.data())
@example([1, 3], None)
def test_var_std_over_axes_match_torch(shape, data):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).round(1)  # rounding makes ties (x == mean) likely
    axes = (tuple(range(len(shape))) if data is None else
            tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))))
    n = int(np.prod([shape[a] for a in axes]))
    correction = n if data is None else data.draw(st.sampled_from([0, 1, n - 1, n, n + 1]))
    keepdims = data is not None and data.draw(st.booleans())
    for op in ("var", "std"):
        expected, _ = _torch_var(torch, x, op, correction, axes, keepdims)
        g = rng.standard_normal(expected.shape)
        _, expected_grad = _torch_var(torch, x, op, correction, axes, keepdims, g)
        t = tg.Tensor(x, dtype=np.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            out = getattr(t, op)(axis=axes, keepdims=keepdims, correction=correction)
            out.backward(tg.Tensor(g, dtype=np.float64))
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-15)
        grad = t.grad.data
        if correction >= n:
            # Division by zero: each gradient is +-inf with the sign of x - mean, which is
            # rounding noise where x equals the mean (the two libraries sum the mean in
            # different orders), so compare magnitudes there.
            tie = np.isclose(x, x.mean(axis=axes, keepdims=True), rtol=0, atol=1e-12)
            grad, expected_grad = (np.where(tie, np.abs(grad), grad),
                                   np.where(tie, np.abs(expected_grad), expected_grad))
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


def test_var_takes_ddof_or_correction_not_both():
    t = tg.Tensor([1.0, 2.0, 4.0], dtype=np.float64)
    assert t.var(correction=1).item() == t.var(ddof=1).item() == t.var(None, False, 1).item()
    assert t.var().item() == pytest.approx(np.var([1.0, 2.0, 4.0]))  # numpy's ddof=0 default
    with pytest.raises(TypeError, match="var: pass either ddof= .* or correction="):
        t.var(ddof=1, correction=1)
    with pytest.raises(TypeError, match="std: pass either ddof="):
        t.std(ddof=0, correction=0)


def test_var_over_zero_elements_raises():
    with pytest.raises(ValueError, match=r"var: cannot compute over zero elements"):
        tg.zeros(0, 3).var(axis=0)


def test_std_of_constant_data_has_zero_gradient_as_torch():
    t = tg.Tensor([[3.0, 3.0], [1.0, 2.0]], dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t.std(axis=1).sum().backward()
    assert t.grad.data[0].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(t.grad.data[1], [-0.5, 0.5])


def test_var_second_derivative_still_works():
    x = tg.Tensor([1.0, 2.0, 4.0], dtype=np.float64, requires_grad=True)
    assert_grad_close(lambda x: x.var(correction=1), [x])
    assert_grad_close(lambda x: x.std(correction=1), [x])
    (g,) = tg.grad(x.var(), [x], create_graph=True)
    (h,) = tg.grad((g * tg.Tensor([1.0, 0.0, 0.0], dtype=np.float64)).sum(), [x])
    np.testing.assert_allclose(h.data, [2 / 3 * (1 - 1 / 3), -2 / 9, -2 / 9])


# ---- item 10: unsupported dtypes are refused at every entry point --------------------------

SUPPORTED = "tinygrad_nd supports bool, int8-int64, uint8-uint64 and float16/float32/float64"
C = np.array([1 + 2j, 3 - 1j])
REFUSED = {
    "Tensor(complex array)": lambda: tg.Tensor(C),
    "Tensor(complex list)": lambda: tg.Tensor([1j, 2.0]),
    "Tensor(complex scalar)": lambda: tg.Tensor(1j),
    "Tensor(dtype=complex)": lambda: tg.Tensor([1.0], dtype=np.complex64),
    "Tensor(Tensor, dtype=complex)": lambda: tg.Tensor(tg.ones(2), dtype=np.complex128),
    "Tensor(complex array, dtype=float)": lambda: tg.Tensor(C, dtype=np.float32),
    "tensor(complex)": lambda: tg.tensor(C),
    "zeros": lambda: tg.zeros(2, dtype=np.complex64),
    "ones": lambda: tg.ones(2, dtype=np.complex128),
    "full dtype": lambda: tg.full(2, 1.0, dtype=np.complex128),
    "full fill_value": lambda: tg.full(2, 1j),
    "full_like fill_value": lambda: tg.full_like(tg.ones(2), 1 + 1j),
    "eye": lambda: tg.eye(2, dtype=np.complex128),
    "arange": lambda: tg.arange(3, dtype=np.complex128),
    "zeros_like": lambda: tg.zeros_like(tg.ones(2), dtype=np.complex64),
    "ones_like": lambda: tg.ones_like(tg.ones(2), dtype=np.complex64),
    "randn": lambda: tg.randn(2, dtype=np.complex128),
    "rand": lambda: tg.rand(2, dtype=np.complex128),
    "astype": lambda: tg.ones(2).astype(np.complex64),
    "Parameter": lambda: nn.Parameter(C),
    "Parameter(dtype=complex)": lambda: nn.Parameter([1.0], dtype=np.complex128),
    "t + complex array": lambda: tg.ones(2) + C,
    "complex array + t": lambda: C + tg.ones(2),
    "t * complex scalar": lambda: tg.ones(2) * 1j,
    "int t - complex": lambda: tg.arange(2) - 1j,
    "t / complex": lambda: tg.ones(2) / C,
    "t ** complex": lambda: tg.ones(2) ** 1j,
    "t @ complex": lambda: tg.ones(2) @ C,
    "maximum(complex)": lambda: tg.ones(2).maximum(C),
    "t < complex": lambda: tg.ones(2) < 1j,
    "t == complex": lambda: tg.ones(2) == C,
    "fill_": lambda: tg.ones(2).fill_(1j),
    "add_": lambda: tg.ones(2).add_(C),
    "mul_": lambda: tg.ones(2).mul_(1j),
    "copy_": lambda: tg.ones(2).copy_(C),
    "setitem": lambda: tg.ones(2).__setitem__(0, 1j),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_complex_values_are_refused_with_a_clear_type_error(name):
    with pytest.raises(TypeError, match=rf"complex.* is not supported; {SUPPORTED}"):
        REFUSED[name]()


def test_sigmoid_can_no_longer_drop_an_imaginary_part():
    # Before: Tensor(complex).sigmoid() returned a real result (tanh kept the imaginary part).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="complex128 is not supported"):
            tg.Tensor(np.array([1 + 2j])).sigmoid()


OTHER_VALUES = {
    "object array": np.array([1, "a"], dtype=object),
    "None": None,
    "list with None": [1.0, None],
    "str list": ["a", "b"],
    "numeric strings": ["1.5", "2"],
    "str array": np.array(["1", "2"]),
    "bytes": np.array([b"ab"]),
    "datetime64": np.array(["2024-01-01"], dtype="datetime64[D]"),
    "timedelta64": np.array([1, 2], dtype="timedelta64[s]"),
    "structured": np.zeros(2, dtype=[("a", "f4")]),
}


@pytest.mark.parametrize("name", sorted(OTHER_VALUES))
def test_object_string_and_datetime_values_raise_type_error(name):
    with pytest.raises(TypeError, match=rf"Tensor: dtype .* is not supported; {SUPPORTED}"):
        tg.Tensor(OTHER_VALUES[name])


@pytest.mark.parametrize("name", sorted(OTHER_VALUES))
def test_unsupported_values_are_refused_even_with_a_float_dtype(name):
    with pytest.raises(TypeError, match=rf"is not supported; {SUPPORTED}"):
        tg.Tensor(OTHER_VALUES[name], dtype=np.float32)


@pytest.mark.parametrize("dtype", [object, "U4", "S4", "datetime64[s]", "timedelta64[s]",
                                   np.clongdouble] + ([np.longdouble] if np.dtype(
                                       np.longdouble).itemsize > 8 else []))
def test_unsupported_dtypes_are_refused_everywhere(dtype):
    for call in (lambda: tg.Tensor([1], dtype=dtype), lambda: tg.zeros(2, dtype=dtype),
                 lambda: tg.ones(2).astype(dtype), lambda: tg.ones(2) + np.zeros(2, dtype)):
        with pytest.raises(TypeError, match=SUPPORTED):
            call()


def test_float16_is_kept_when_asked_for_and_upcast_otherwise():
    half = np.array([1.5, 2.0], dtype=np.float16)
    assert tg.Tensor(half).dtype == np.float32  # float data becomes the default dtype
    assert tg.Tensor(half, dtype=np.float16).dtype == np.float16
    assert tg.zeros(2, dtype=np.float16).dtype == np.float16
    assert nn.Parameter(half).dtype == np.float16
    assert (tg.ones(2, dtype=np.float16) * 2).dtype == np.float16


def test_supported_dtypes_still_work():
    for dtype in (np.bool_, np.int8, np.int32, np.int64, np.uint8, np.uint64, np.float16,
                  np.float32, np.float64):
        assert tg.Tensor([1, 0], dtype=dtype).dtype == dtype
        assert tg.zeros(2, dtype=dtype).dtype == dtype
    assert tg.randn(2, dtype=np.float64).dtype == np.float64
    assert (tg.ones(2) + np.array([1, 2], dtype=np.uint8)).dtype == np.float32


@pytest.mark.parametrize("factory", [tg.randn, tg.rand])
def test_random_factories_refuse_integer_dtypes_instead_of_truncating(factory):
    with pytest.raises(TypeError, match=rf"{factory.__name__}: dtype= must be a floating-point "
                                        "dtype .* got int64"):
        factory(3, dtype=np.int64)


def test_complex_step_check_still_works_and_refuses_ops_that_drop_the_imaginary_part():
    x = tg.Tensor([0.5, 1.5], dtype=np.float64, requires_grad=True)
    assert_grad_close(lambda x: x.log() * x, [x], mode="complex_step")
    assert_grad_close(lambda x: x.tanh(), [x], mode="complex_step")
    with pytest.raises(np.exceptions.ComplexWarning):
        assert_grad_close(lambda x: x.sigmoid(), [x], mode="complex_step")
