"""Every unary elementwise op (and the losses) at float32 extremes, against PyTorch, warning-free.

Inputs +-1e4, +-89, +-88 (where e**x leaves float32), +-17 (where a float32 sigmoid rounds to
1) and 0 (the kinks). Where PyTorch is finite we must be finite and close; where it gives inf
or nan we give the same; and no numpy RuntimeWarning may escape where PyTorch is silent.
"""

import warnings

import numpy as np
import pytest
from test_vs_torch import MATH_TORCH  # (tests/ is on sys.path: its conftest.py)

import tinygrad_nd as tg
import tinygrad_nd.nn.functional as F
from tinygrad_nd.registry import OPS, apply

torch = pytest.importorskip("torch")
TF = torch.nn.functional

EXTREMES = np.array([-1e4, -89.0, -88.0, -17.0, 0.0, 17.0, 88.0, 89.0, 1e4], dtype=np.float32)

UNARY = sorted(n for n, d in OPS.items() if d.shape_rule == "elementwise" and d.nin == 1)

# PyTorch's call for each unary op, with each registered parameter value.
TORCH_UNARY = {
    "neg": torch.neg, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt,
    "abs": torch.abs, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "gelu": lambda x, approximate: TF.gelu(x, approximate=approximate),
    "clip": lambda x, min, max: torch.clamp(x, min, max),
    "cast": lambda x, dtype: x.to(getattr(torch, np.dtype(dtype).name)),
    "leaky_relu": lambda x, negative_slope: TF.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha: TF.elu(x, alpha),
    "softplus": lambda x, beta: TF.softplus(x, beta),
    # part "math" of issue #14 (the same adapters as the oracle test's)
    **{name: fn for name, fn in MATH_TORCH.items() if name in OPS and OPS[name].nin == 1},
}


# part "math" of issue #14: where PyTorch's float32 result is the less accurate one, the
# slack (absolute, or relative) that covers it, and the comparisons PyTorch cannot make.
SLACK = {
    # PyTorch's float32 expm1(-17) is -1.0 (ours -0.99999994, correctly rounded), so its
    # slope e**x there is 0, ours 6e-8
    "expm1": dict(atol=1e-7),
    # PyTorch's softsign is x / (1 + |x|) composed, whose gradient at 1e4 cancels in float32
    # (error 1e-4 relative); ours is 1 / (1 + |x|)**2 directly
    "softsign": dict(rtol=1e-3),
    # the second derivative -s (1 - s) at +-17 is 4e-8 where a float32 sigmoid rounds to 1:
    # PyTorch loses it at 17, ours at -17
    "logsigmoid": dict(atol=1e-7),
}
# Inputs where PyTorch's float32 answer is wrong, and what ours is there instead: PyTorch's
# second derivative of mish overflows to nan for x >= 89 (ours stays finite); its exact
# gelu(+inf) is nan (ours inf, the limit of x Phi(x)).
TORCH_WRONG = {
    ("mish", "second"): (lambda x: x >= 89, np.isfinite),
    ("gelu", "nonfinite"): (np.isposinf, np.isposinf),
}


def _where_torch_is_right(name, which, x, ours):
    """Mask of inputs to compare with PyTorch; at the others, check our documented value."""
    if (name, which) not in TORCH_WRONG:
        return np.ones(x.shape, bool)
    torch_wrong, ours_holds = TORCH_WRONG[name, which]
    wrong = torch_wrong(x)
    assert ours_holds(np.asarray(ours)[wrong]).all(), f"{name} {which}: {ours}"
    return ~wrong


def _cases():
    for name in UNARY:
        params = OPS[name].params
        keys = list(params)
        for i in range(max((len(v) for v in params.values()), default=1)):
            yield pytest.param(name, {k: params[k][min(i, len(params[k]) - 1)] for k in keys},
                               id=f"{name}-{i}")


def assert_matches(ours, theirs, what, rtol=1e-5, atol=1e-30):
    """Finite where torch is finite, the same inf/nan where it is not, and close."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, what
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: nan")
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(theirs), err_msg=f"{what}: +inf")
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs), err_msg=f"{what}: -inf")
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=rtol, atol=atol, err_msg=what)


def test_every_unary_op_has_a_torch_adapter():
    assert set(UNARY) <= set(TORCH_UNARY), sorted(set(UNARY) - set(TORCH_UNARY))


@pytest.mark.parametrize("name, params", list(_cases()))
def test_unary_op_at_float32_extremes_matches_torch_without_warnings(name, params):
    upstream = np.linspace(0.5, 1.5, EXTREMES.size).astype(np.float32)
    x = tg.Tensor(EXTREMES, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = apply(name, x, **params)
        (g,) = tg.grad(out, [x], tg.Tensor(upstream, dtype=out.dtype))
    tx = torch.tensor(EXTREMES, requires_grad=True)
    tout = TORCH_UNARY[name](tx, **params)
    (tg_,) = torch.autograd.grad(tout, [tx], torch.tensor(upstream, dtype=tout.dtype))
    assert_matches(out.data, tout.detach().numpy(), f"{name} forward", **SLACK.get(name, {}))
    assert_matches(g.data, tg_.numpy(), f"{name} gradient", **SLACK.get(name, {}))


@pytest.mark.parametrize("name, params", list(_cases()))
def test_unary_op_second_derivative_at_float32_extremes_is_warning_free_and_matches_torch(
        name, params):
    x = tg.Tensor(EXTREMES, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = tg.grad(apply(name, x, **params).sum(), [x], create_graph=True)
        gg = tg.grad(g.sum(), [x], allow_unused=True)[0] if g.requires_grad else None
    tx = torch.tensor(EXTREMES, requires_grad=True)
    (tg1,) = torch.autograd.grad(TORCH_UNARY[name](tx, **params).sum(), [tx], create_graph=True)
    tgg = torch.autograd.grad(tg1.sum(), [tx], allow_unused=True)[0] if tg1.requires_grad \
        else None
    assert_matches(g.data, tg1.detach().numpy(), f"{name} gradient (recorded)",
                   **SLACK.get(name, {}))
    ours = np.zeros(EXTREMES.shape) if gg is None else gg.data
    theirs = np.zeros(EXTREMES.shape) if tgg is None else tgg.numpy(force=True)
    # At a kink the second derivative is a one-sided choice (PyTorch's elu takes the right
    # side's 0 there, against its own first derivative's left side); compare elsewhere.
    away = ~np.isin(EXTREMES, OPS[name].kinks)
    away &= _where_torch_is_right(name, "second", EXTREMES, ours)
    assert_matches(ours[away], theirs[away], f"{name} second derivative",
                   **{"rtol": 1e-4, **SLACK.get(name, {})})


LOSSES = {
    "binary_cross_entropy(sigmoid)": (lambda x, t: F.binary_cross_entropy(x.sigmoid(), t,
                                                                         reduction="none"),
                                      lambda x, t: TF.binary_cross_entropy(x.sigmoid(), t,
                                                                           reduction="none")),
    "binary_cross_entropy_with_logits": (
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction="none")),
    "cross_entropy": (lambda x, t: F.cross_entropy(x.reshape(-1, 3), [0, 1, 2]),
                      lambda x, t: TF.cross_entropy(x.reshape(-1, 3), torch.tensor([0, 1, 2]))),
    "mse_loss": (lambda x, t: F.mse_loss(x, t), lambda x, t: TF.mse_loss(x, t)),
    "softmax": (lambda x, t: x.reshape(3, 3).softmax(axis=0),
                lambda x, t: torch.softmax(x.reshape(3, 3), dim=0)),
    "log_softmax": (lambda x, t: x.reshape(3, 3).log_softmax(axis=0),
                    lambda x, t: torch.log_softmax(x.reshape(3, 3), dim=0)),
}


@pytest.mark.parametrize("target", [0.0, 1.0])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_at_float32_extremes_matches_torch_without_warnings(name, target):
    ours_fn, theirs_fn = LOSSES[name]
    t = np.full(EXTREMES.shape, target, dtype=np.float32)
    x = tg.Tensor(EXTREMES, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours_fn(x, t)
        (g,) = tg.grad(out.sum(), [x])
    tx = torch.tensor(EXTREMES, requires_grad=True)
    tout = theirs_fn(tx, torch.tensor(t))
    (tgrad,) = torch.autograd.grad(tout.sum(), [tx])
    assert np.isfinite(g.data).all()
    # (absolute slack on values: PyTorch's with-logits loss loses the tail log1p(e**-|z|) for
    # t = 0, z << 0, where ours keeps it; see test_losses_numerics.py)
    assert_matches(out.data, tout.detach().numpy(), f"{name} forward", atol=1e-7)
    assert_matches(g.data, tgrad.numpy(), f"{name} gradient", atol=1e-30)


# Inputs where numpy warns and PyTorch silently returns inf or nan: (expression, its PyTorch twin).
SILENT = [
    ("log of 0", lambda x: x.log(), torch.log, [0.0, 1.0]),
    ("log of a negative", lambda x: x.log(), torch.log, [-1.0, 1.0]),
    ("exp overflow", lambda x: x.exp(), torch.exp, [1e4, 1.0]),
    ("sqrt of a negative", lambda x: x.sqrt(), torch.sqrt, [-1.0, 4.0]),
    ("sqrt of 0", lambda x: x.sqrt(), torch.sqrt, [0.0, 4.0]),
    ("division by 0", lambda x: 1.0 / x, lambda x: 1.0 / x, [0.0, 2.0]),
    ("0 / 0", lambda x: x / x, lambda x: x / x, [0.0, 2.0]),
    ("division overflow", lambda x: x / 1e-30, lambda x: x / 1e-30, [1e10, 1.0]),
    ("power of 0 to a negative", lambda x: x ** -1.0, lambda x: x ** -1.0, [0.0, 2.0]),
    ("fractional power of a negative", lambda x: x ** 0.5, lambda x: x ** 0.5, [-1.0, 4.0]),
    ("square root by power at 0", lambda x: x ** 0.5, lambda x: x ** 0.5, [0.0, 4.0]),
    ("exponent's gradient at base 0", lambda x: tg.Tensor([0.0, 2.0]) ** x,
     lambda x: torch.tensor([0.0, 2.0]) ** x, [2.0, 0.0]),
    ("cast overflow, both ways", lambda x: (x.double() ** 5.0).float(),
     lambda x: (x.double() ** 5.0).float(), [1e10, 1.0]),
]


@pytest.mark.parametrize("what, ours_fn, theirs_fn, values", SILENT, ids=[s[0] for s in SILENT])
def test_ieee_results_come_without_numpy_warnings_and_match_torch(what, ours_fn, theirs_fn,
                                                                  values):
    x = tg.Tensor(np.array(values, dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours_fn(x)
        (g,) = tg.grad(out.sum(), [x])
    tx = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    tout = theirs_fn(tx)
    (tgrad,) = torch.autograd.grad(tout.sum(), [tx])
    assert_matches(out.data, tout.detach().numpy(), f"{what} forward")
    assert_matches(g.data, tgrad.numpy(), f"{what} gradient")


NON_FINITE = np.array([np.inf, -np.inf, np.nan, 0.0, 2.0], dtype=np.float32)


@pytest.mark.parametrize("name, params", list(_cases()))
def test_unary_op_on_inf_and_nan_is_warning_free_and_matches_torch(name, params):
    ones = np.ones(NON_FINITE.shape, np.float32)
    x = tg.Tensor(NON_FINITE, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = apply(name, x, **params)
        (g,) = tg.grad(out, [x], tg.Tensor(ones, dtype=out.dtype))
    tx = torch.tensor(NON_FINITE, requires_grad=True)
    tout = TORCH_UNARY[name](tx, **params)
    (tgrad,) = torch.autograd.grad(tout, [tx], torch.ones_like(tout))
    exact_gelu = name != "gelu" or params.get("approximate", "none") == "none"
    right = (_where_torch_is_right(name, "nonfinite", NON_FINITE, out.data) if exact_gelu
             else np.ones(NON_FINITE.shape, bool))  # (gelu's tanh form agrees with torch)
    assert_matches(out.data[right], tout.detach().numpy()[right], f"{name} forward")
    # At a NaN input the slope of relu, abs, elu ... is a convention (PyTorch passes the
    # gradient through relu there, ours stops it): compare the gradient at inf and finite x.
    number = ~np.isnan(NON_FINITE) & right
    assert_matches(g.data[number], tgrad.numpy()[number], f"{name} gradient")


def test_bce_with_logits_with_infinite_targets_is_warning_free_and_matches_torch():
    x = np.array([0.5, -2.0, 3.0, 0.5], dtype=np.float32)
    t = np.array([np.inf, -np.inf, np.nan, 1.0], dtype=np.float32)
    xs = tg.Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.binary_cross_entropy_with_logits(xs, t, reduction="none")
        (g,) = tg.grad(out, [xs], tg.ones(4))
    tx = torch.tensor(x, requires_grad=True)
    tout = TF.binary_cross_entropy_with_logits(tx, torch.tensor(t), reduction="none")
    (tgrad,) = torch.autograd.grad(tout, [tx], torch.ones(4))
    assert_matches(out.data, tout.detach().numpy(), "forward")
    assert_matches(g.data, tgrad.numpy(), "gradient")


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_of_nan_are_nan_without_warnings(name):
    x = tg.Tensor([1.0, np.nan, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(x, name)()
        out.backward()
    theirs = getattr(torch.tensor([1.0, np.nan, 3.0]), name)()
    assert np.isnan(out.item()) and np.isnan(theirs.item())
    assert x.grad.shape == (3,)
