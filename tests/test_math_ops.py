"""Math functions and activations (part "math" of issue #14): edge cases beyond the generic
op tests (which cover every registered op's gradient, torch forward/VJP and float32 extremes)."""

import math
import warnings

import numpy as np
import pytest

import tinygrad_nd as tg
import tinygrad_nd.nn.functional as F
from tinygrad_nd import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _grad(fn, *arrays):
    xs = [tg.Tensor(np.asarray(a, dtype=np.float64), dtype=np.float64, requires_grad=True)
          for a in arrays]
    out = fn(*xs)
    return out, tg.grad(out.sum(), xs, allow_unused=True)


def _torch_grad(fn, *arrays):
    xs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*xs)
    return out, torch.autograd.grad(out.sum(), xs, allow_unused=True)


def test_erf_is_accurate_to_1e_12_in_float64():
    x = np.concatenate([np.linspace(-6, 6, 2001), [0.0, 1e-300, -1e-10, 27.0, -27.0]])
    ours = tg.erf(tg.Tensor(x, dtype=np.float64)).data
    try:
        from scipy.special import erf as reference
        expected = reference(x)
    except ImportError:  # pragma: no cover
        expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)
    assert tg.erf(tg.Tensor([0.5], dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_forms_match_torch_with_second_derivative(approximate):
    x = np.linspace(-5, 5, 23)
    out, (g,) = _grad(lambda t: F.gelu(t, approximate=approximate), x)
    tout, (tgrad,) = _torch_grad(lambda t: TF.gelu(t, approximate=approximate), x)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g.data, tgrad.numpy(), rtol=1e-12, atol=1e-14)


def test_gelu_default_is_exact_everywhere_it_is_spelled():
    x = tg.Tensor([1.0], dtype=np.float64)
    exact = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    for value in (x.gelu(), F.gelu(x), tg.gelu(x), nn.GELU()(x)):
        assert value.item() == pytest.approx(exact, rel=1e-14)
    tanh_form = TF.gelu(torch.tensor([1.0], dtype=torch.float64), approximate="tanh")
    assert nn.GELU("tanh")(x).item() == pytest.approx(tanh_form.item(), rel=1e-14)
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match="gelu: approximate"):
        x.gelu("fast")


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_halves_to_even_with_decimals_as_torch(decimals):
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.25, 0.35, 1.005, 12.5, 15.0, 25.0, -35.0, 0.0])
    for dtype in (np.float32, np.float64):
        ours = tg.round(tg.Tensor(x, dtype=dtype), decimals=decimals)
        theirs = torch.round(torch.tensor(x.astype(dtype)), decimals=decimals)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        assert ours.dtype == dtype
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        tg.Tensor([1.0]).round(1.5)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_rounding_ops_have_zero_gradient_and_keep_integers(name):
    x = tg.Tensor([-1.5, 0.0, 2.7], requires_grad=True)
    getattr(x, name)().sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))
    ints = tg.Tensor(np.array([-2, 0, 3]))
    out = getattr(ints, name)()
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, getattr(torch, name)(torch.tensor([-2, 0, 3])).numpy())


def test_zero_gradients_are_zero_even_for_infinite_upstream_and_recorded():
    x = tg.Tensor([0.3, 1.7], dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(x.floor(), [x], tg.Tensor([np.inf, np.nan], dtype=np.float64),
                   create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0])


def test_sign_and_frac_match_torch_on_special_values():
    x = np.array([np.nan, -0.0, 0.0, -2.5, 3.25, np.inf, -np.inf], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(tg.sign(tg.Tensor(x)).data, torch.sign(torch.tensor(x)))
        np.testing.assert_array_equal(tg.frac(tg.Tensor(x)).data, torch.frac(torch.tensor(x)))
    _, (g,) = _grad(tg.frac, [-2.5, 3.25])
    np.testing.assert_array_equal(g.data, [1.0, 1.0])


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_fmod_and_remainder_signs_and_gradients_match_torch(name):
    a = np.array([-7.5, 7.5, -7.5, 7.5, 5.0, -1.0])
    b = np.array([2.0, -2.0, -2.0, 2.0, 3.0, 4.0])
    out, grads = _grad(getattr(tg, name), a, b)
    tout, tgrads = _torch_grad(getattr(torch, name), a, b)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    for ours, theirs in zip(grads, tgrads):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    # a Python number as divisor, int tensors stay integers
    assert getattr(tg.Tensor([-7.5]), name)(2.0).item() == getattr(torch, name)(
        torch.tensor([-7.5]), 2.0).item()
    ints = getattr(tg.Tensor(np.array([-7, 7])), name)(3)
    assert ints.dtype == np.int64
    assert ints.tolist() == getattr(torch, name)(torch.tensor([-7, 7]), 3).tolist()


def test_clamp_with_tensor_bounds_gives_torch_gradients_to_all_three():
    x = np.array([[-2.0, 0.5, 3.0, 1.0], [0.0, 0.0, 5.0, -5.0]])
    lo = np.array([-1.0, 1.0, -1.0, 2.0])        # broadcasts over rows; lo > hi in column 3
    hi = np.array([[2.0], [0.5]])
    out, grads = _grad(lambda *t: tg.clamp(t[0], min=t[1], max=t[2]), x, lo, hi)
    tout, tgrads = _torch_grad(lambda *t: torch.clamp(t[0], t[1], t[2]), x, lo, hi)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    for ours, theirs in zip(grads, tgrads):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    # one tensor bound, one number or None
    for kwargs in ({"min": lo}, {"max": hi}, {"min": lo, "max": 1.5}):
        ours = tg.Tensor(x).clamp(**{k: (tg.Tensor(v) if isinstance(v, np.ndarray) else v)
                                     for k, v in kwargs.items()})
        theirs = torch.clamp(torch.tensor(x), **{k: torch.as_tensor(v, dtype=torch.float64)
                                                 for k, v in kwargs.items()})
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    # scalar bounds still take the one-input clip op
    assert tg.Tensor([3.0]).clamp(max=1.0).item() == 1.0


def test_lerp_weight_number_or_tensor_and_exact_ends():
    a, b = np.array([1.0, -2.0, 3.0]), np.array([5.0, 4.0, -1.0])
    w = np.array([0.0, 0.3, 1.0])
    out, grads = _grad(lambda *t: tg.lerp(*t), a, b, w)
    tout, tgrads = _torch_grad(torch.lerp, a, b, w)
    # (PyTorch fuses w * (b - a) + a into one rounding: an ulp apart)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-15)
    np.testing.assert_array_equal(out.data[[0, 2]], [1.0, -1.0])
    for ours, theirs in zip(grads, tgrads):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-15)
    assert tg.Tensor([0.0, 10.0]).lerp(tg.Tensor([10.0, 0.0]), 0.25).tolist() == [2.5, 7.5]


def test_hypot_and_atan2_at_large_and_signed_values():
    big = tg.Tensor([3e30], dtype=np.float32)
    assert tg.hypot(big, big * (4 / 3)).item() == pytest.approx(5e30, rel=1e-6)
    y, x = np.array([1.0, 1.0, -1.0, -1.0, 0.0]), np.array([1.0, -1.0, -1.0, 1.0, -1.0])
    y, x = np.append(y, 0.0), np.append(x, 0.0)  # the origin: gradient 0, as PyTorch
    out, grads = _grad(tg.atan2, y, x)
    tout, tgrads = _torch_grad(torch.atan2, y, x)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-15)
    for ours, theirs in zip(grads, tgrads):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-15)


@pytest.mark.parametrize("name", ["sin", "log2", "erf", "floor", "silu", "selu", "relu6", "mish"])
def test_empty_and_zero_dim_inputs(name):
    fn = getattr(tg, name)
    assert fn(tg.zeros(0, 3)).shape == (0, 3)
    x = tg.Tensor(np.float64(0.75), dtype=np.float64, requires_grad=True)
    y = fn(x)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()


ACTIVATIONS = {
    "relu6": (F.relu6, TF.relu6), "hardtanh": (lambda x: F.hardtanh(x, -2.0, 0.5),
                                               lambda x: TF.hardtanh(x, -2.0, 0.5)),
    # (PyTorch's hardsigmoid backward and celu use float32 coefficients even in float64:
    # compared with relu6's form and an alpha whose reciprocal float32 holds exactly)
    "hardsigmoid": (F.hardsigmoid, lambda x: TF.relu6(x + 3) / 6),
    "hardswish": (F.hardswish, TF.hardswish),
    "silu": (F.silu, TF.silu), "mish": (F.mish, TF.mish), "softsign": (F.softsign, TF.softsign),
    "celu": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5)), "selu": (F.selu, TF.selu),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "threshold": (lambda x: F.threshold(x, 0.4, -3.0), lambda x: TF.threshold(x, 0.4, -3.0)),
    "softmin": (lambda x: F.softmin(x, dim=0), lambda x: TF.softmin(x, dim=0)),
    "glu": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch_at_kinks_and_extremes(name):
    ours_fn, theirs_fn = ACTIVATIONS[name]
    # the kinks themselves (0, 6, -3, 3, the threshold) where the subgradient is a choice
    x = np.array([-1e4, -6.0, -3.0, -2.0, -0.5, 0.0, 0.4, 0.5, 3.0, 6.0, 7.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = _grad(ours_fn, x)
    tout, (tgrad,) = _torch_grad(theirs_fn, x)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g.data, tgrad.numpy(), rtol=1e-12, atol=1e-300)


def test_mish_second_derivative_stays_finite_where_torchs_overflows():
    x = tg.Tensor([89.0, 1e4, -1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = tg.grad(x.mish().sum(), [x], create_graph=True)
        (gg,) = tg.grad(g.sum(), [x])
    np.testing.assert_array_equal(g.data, [1.0, 1.0, 0.0])
    assert np.isfinite(gg.data).all()


@pytest.mark.parametrize("make, error", [
    (lambda: nn.Softplus(beta=0), ValueError), (lambda: nn.Softplus(beta="1"), TypeError),
    (lambda: nn.CELU(alpha=0.0), ValueError), (lambda: nn.LeakyReLU("0.1"), TypeError),
    (lambda: nn.ELU(alpha=None), TypeError), (lambda: nn.Softmax(dim=1.0), TypeError),
    (lambda: nn.LogSoftmax(dim="x"), TypeError), (lambda: nn.Hardtanh(1.0, -1.0), ValueError),
    (lambda: nn.Hardtanh(1.0, 1.0), ValueError), (lambda: nn.Threshold(float("nan"), 0.0),
                                                  ValueError),
    (lambda: nn.GLU(dim=True), TypeError), (lambda: nn.Softmin(dim=None), TypeError),
    (lambda: nn.SiLU(inplace=1), TypeError), (lambda: nn.GELU(approximate=None), ValueError),
])
def test_modules_validate_their_arguments_at_construction(make, error):
    with pytest.raises(error):
        make()


def test_modules_match_torch_modules():
    x = np.linspace(-4, 4, 12).reshape(3, 4)
    pairs = [(nn.ReLU6(), torch.nn.ReLU6()), (nn.Hardtanh(-2, 2), torch.nn.Hardtanh(-2, 2)),
             (nn.Hardsigmoid(), torch.nn.Hardsigmoid()), (nn.Hardswish(), torch.nn.Hardswish()),
             (nn.SiLU(), torch.nn.SiLU()), (nn.Mish(), torch.nn.Mish()),
             (nn.Softsign(), torch.nn.Softsign()), (nn.CELU(2.0), torch.nn.CELU(2.0)),
             (nn.SELU(), torch.nn.SELU()), (nn.LogSigmoid(), torch.nn.LogSigmoid()),
             (nn.GLU(), torch.nn.GLU()), (nn.Softmin(1), torch.nn.Softmin(1)),
             (nn.Threshold(0.1, 20.0), torch.nn.Threshold(0.1, 20.0)),
             (nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh"))]
    for ours, theirs in pairs:
        assert isinstance(ours, nn.Module) and not list(ours.parameters())
        np.testing.assert_allclose(ours(tg.Tensor(x, dtype=np.float64)).data,
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=type(ours).__name__)
    assert repr(nn.Hardtanh(-2, 2)) == "Hardtanh(min_val=-2.0, max_val=2.0)"


def test_glu_needs_an_even_dimension():
    with pytest.raises(ValueError, match="glu: halving dimension 1 must have an even size"):
        F.glu(tg.zeros(2, 3), dim=1)
    with pytest.raises(IndexError, match="glu: dim 2 is out of range"):
        F.glu(tg.zeros(2, 4), dim=2)


def test_numpy_ufuncs_on_tensors_dispatch_to_the_new_ops():
    x = tg.Tensor([0.5, 1.0], requires_grad=True)
    y = np.sin(x) + np.log1p(x) + np.arctan2(x, 2.0) + np.floor(x)
    assert isinstance(y, tg.Tensor)
    y.sum().backward()
    expected = np.cos([0.5, 1.0]) + 1 / (1 + np.array([0.5, 1.0])) + 2 / (4 + np.array(
        [0.25, 1.0]))
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6)


def test_integer_inputs_promote_to_float_for_transcendental_ops():
    out = tg.Tensor(np.array([1, 2])).sin()
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out.data, np.sin([1.0, 2.0]), rtol=1e-6)


ELEMENTWISE_MODULES = [nn.ReLU6(), nn.Hardtanh(-2.0, 0.5), nn.Hardsigmoid(), nn.Hardswish(),
                       nn.SiLU(), nn.Mish(), nn.Softsign(), nn.CELU(0.5), nn.SELU(),
                       nn.LogSigmoid(), nn.Threshold(0.1, 2.0), nn.GELU(), nn.GELU("tanh")]


@pytest.mark.parametrize("module", ELEMENTWISE_MODULES, ids=repr)
def test_elementwise_activation_modules_are_activations_the_diagnostics_understand(module):
    from tinygrad_nd.diagnostics.layers import activation_slope

    assert isinstance(module, nn.Activation)
    z = np.array([-2.5, -0.7, -0.15, 0.3, 1.9])  # away from every module's kinks
    eps = 1e-6
    numeric = (module(tg.Tensor(z + eps, dtype=np.float64)).data
               - module(tg.Tensor(z - eps, dtype=np.float64)).data) / (2 * eps)
    np.testing.assert_allclose(activation_slope(module, z), numeric, rtol=1e-5, atol=1e-8)


def test_softmin_and_glu_are_not_elementwise_activations():
    assert not isinstance(nn.Softmin(), nn.Activation)
    assert not isinstance(nn.GLU(), nn.Activation)


def test_hardtanh_refuses_bounds_in_the_wrong_order_as_torch():
    """np.clip with min > max silently returned max_val everywhere."""
    x = tg.Tensor([0.0, 3.0])
    for call in (lambda: x.hardtanh(1.0, -1.0), lambda: nn.functional.hardtanh(x, 1.0, -1.0)):
        with pytest.raises(ValueError, match=r"hardtanh: min_val \(1.0\) cannot be greater"):
            call()
    np.testing.assert_array_equal(x.hardtanh(1.0, 1.0).data, [1.0, 1.0])  # equal: allowed
