"""Reductions, scans and selections: the edge cases the generic tests do not draw (zeros,
ties, NaN, +-1e4, empty and 0-d inputs, dtypes), and the composites (sort, topk, kthvalue,
median, max/min along a dim) against PyTorch, values, indices and gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.testing import arrays, shapes

torch = pytest.importorskip("torch")


def _pair(values, dtype=np.float64):
    """The same values as a tinygrad_nd and a torch leaf tensor."""
    values = np.asarray(values, dtype=dtype)
    return (tg.Tensor(values, dtype=dtype, requires_grad=True),
            torch.tensor(values, requires_grad=True))


def _grads_match(ours, theirs, x, tx, upstream=None, **tol):
    """Forward values and the VJP with a random (or given) upstream gradient agree."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)
    g = np.random.default_rng(0).standard_normal(ours.shape) if upstream is None else upstream
    (got,) = tg.grad(ours, [x], tg.Tensor(g, dtype=ours.dtype))
    (want,) = torch.autograd.grad(theirs, [tx], torch.tensor(g, dtype=theirs.dtype),
                                  allow_unused=True)
    # (torch's count of nonzeros does not use its input's values: a zero gradient, as ours)
    want = np.zeros(x.shape) if want is None else want.numpy()
    np.testing.assert_allclose(got.data, want, **tol)


# ---- scans ----------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0], [1.5, -2.0, 0.0],
                                    [0.0]])
def test_cumprod_gradient_is_exact_with_zeros(values):
    x, tx = _pair(values)
    _grads_match(tg.cumprod(x, 0), torch.cumprod(tx, 0), x, tx)


def test_cumprod_with_zeros_along_an_inner_dim_of_a_batch():
    values = np.array([[[1.0, 0.0, 2.0], [3.0, -1.0, 0.5]], [[0.0, 0.0, 1.0], [2.0, 2.0, 2.0]]])
    x, tx = _pair(values)
    _grads_match(x.cumprod(1), tx.cumprod(1), x, tx)
    _grads_match(x.cumprod(dim=-1), tx.cumprod(-1), x, tx)


def test_cumprod_grad_of_grad_with_a_zero_matches_central_differences():
    x = tg.Tensor([1.5, 0.0, -2.0, 0.5], dtype=np.float64, requires_grad=True)
    assert tg.gradgradcheck(lambda t: t.cumprod(0), (x,))


def test_logcumsumexp_is_stable_at_1e4_in_float32():
    values = np.array([1e4, -1e4, 1e4, 0.0, -1e4], dtype=np.float32)
    x, tx = _pair(values, np.float32)
    y = tg.logcumsumexp(x, 0)
    assert y.dtype == np.float32 and np.isfinite(y.data).all()
    _grads_match(y, torch.logcumsumexp(tx, 0), x, tx, rtol=1e-6, atol=1e-3)


def test_logcumsumexp_keeps_early_small_terms():
    # log(cumsum(exp(x))) shifted by the overall max would underflow the first entry to -inf.
    y = tg.logcumsumexp(tg.Tensor([-1e4, 1e4], dtype=np.float64), 0)
    assert y.tolist() == [-1e4, 1e4]


@pytest.mark.parametrize("fn", ["cumsum", "cumprod", "logcumsumexp"])
def test_scans_of_a_0d_tensor_and_their_errors(fn):
    x, tx = _pair(1.5)
    _grads_match(getattr(tg, fn)(x, 0), getattr(torch, fn)(tx, 0), x, tx)
    with pytest.raises(IndexError, match=fn):
        getattr(tg, fn)(tg.ones(2, 3), 2)
    with pytest.raises(TypeError, match="dim"):
        getattr(tg.ones(3), fn)()


def test_cumsum_of_integers_is_int64_and_logcumsumexp_refuses_them():
    assert tg.Tensor(np.array([1, 2, 3])).cumsum(0).tolist() == [1, 3, 6]
    assert tg.Tensor(np.array([True, True])).cumsum(0).dtype == np.int64
    with pytest.raises(TypeError, match="logcumsumexp"):
        tg.Tensor(np.array([1, 2])).logcumsumexp(0)


# ---- prod, logsumexp, norms -----------------------------------------------------------------
@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.0, 2.0, -3.0]])
@pytest.mark.parametrize("dim", [None, 0])
def test_prod_gradient_with_zeros(values, dim):
    x, tx = _pair(values)
    theirs = torch.prod(tx) if dim is None else torch.prod(tx, dim)
    _grads_match(tg.prod(x, dim), theirs, x, tx)


def test_prod_over_several_dims_with_zeros_and_empty():
    values = np.array([[[1.0, 0.0], [2.0, 3.0]], [[0.0, 0.0], [4.0, -1.0]]])
    x, tx = _pair(values)
    _grads_match(x.prod(dim=(0, 2), keepdim=True),
                 torch.prod(torch.prod(tx, 2, keepdim=True), 0, keepdim=True), x, tx)
    assert tg.zeros(0, 3).prod(0).tolist() == [1.0, 1.0, 1.0]
    assert tg.Tensor(np.array([2, 3], dtype=np.int32)).prod().dtype == np.int64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_stable_at_plus_minus_1e4(dtype):
    values = np.array([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4, -1e4 + 2]], dtype=dtype)
    x, tx = _pair(values, dtype)
    _grads_match(tg.logsumexp(x, 1), torch.logsumexp(tx, 1), x, tx, rtol=1e-6)


def test_logsumexp_of_infinities_and_empty_like_torch():
    minf = tg.Tensor([-np.inf, -np.inf], dtype=np.float64)
    assert tg.logsumexp(minf).item() == -np.inf
    assert tg.logsumexp(tg.Tensor([np.inf, 1.0], dtype=np.float64)).item() == np.inf
    assert tg.logsumexp(tg.zeros(0, 2), 0).tolist() == [-np.inf, -np.inf]
    assert tg.logsumexp(tg.Tensor(np.array([1, 2]))).dtype == tg.get_default_dtype()


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, np.inf, -np.inf, 0])
def test_vector_norm_gradient_at_zero_is_zero_as_torch(ord):
    x, tx = _pair([0.0, 0.0, 0.0])
    _grads_match(tg.linalg.vector_norm(x, ord), torch.linalg.vector_norm(tx, ord), x, tx)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, np.inf, -np.inf, 0, -1])
def test_vector_norm_with_zero_entries_and_ties_matches_torch(ord):
    x, tx = _pair([[0.0, 2.0, -2.0], [1.0, 0.0, 3.0]])
    _grads_match(tg.linalg.vector_norm(x, ord, dim=1), torch.linalg.vector_norm(tx, ord, dim=1),
                 x, tx)


def test_norm_spellings_and_errors():
    x = tg.Tensor([[3.0, 0.0], [0.0, -4.0]])
    assert x.norm().item() == 5.0 and tg.norm(x, p="fro").item() == 5.0
    assert x.norm(1, dim=1).tolist() == [3.0, 4.0]
    assert tg.linalg.norm(x).item() == 5.0
    with pytest.raises(NotImplementedError, match="matrix norms"):
        tg.linalg.norm(x, ord=2)
    with pytest.raises(ValueError, match="nuc"):
        tg.norm(x, p="nuc")
    with pytest.raises(TypeError, match="floating"):
        tg.linalg.vector_norm(tg.Tensor(np.array([3, 4])))


# ---- extrema -------------------------------------------------------------------------------
def test_amax_ties_share_the_gradient_and_max_dim_sends_it_to_the_index():
    x, tx = _pair([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    _grads_match(x.amax(dim=1), tx.amax(dim=1), x, tx)
    _grads_match(tg.amax(x), torch.amax(tx), x, tx)
    ours, theirs = x.max(dim=1), tx.max(dim=1)
    assert ours.indices.tolist() == theirs.indices.tolist() == [1, 0]
    _grads_match(ours.values, theirs.values, x, tx)
    _grads_match(x.min(1).values, tx.min(1).values, x, tx)


def test_max_spelling_rule():
    x = tg.Tensor([[1.0, 5.0], [7.0, 2.0]])
    assert isinstance(x.max(axis=1), tg.Tensor)  # numpy's spelling: values
    assert x.max(axis=(0, 1)).item() == 7.0 and x.max().item() == 7.0
    assert x.max(axis=0, keepdims=True).shape == (1, 2)
    values, indices = x.max(1)  # PyTorch's positional dim: (values, indices)
    assert type(x.max(1)).__name__ == "max" and indices.dtype == np.int64
    assert x.max(dim=1, keepdim=True).values.shape == (2, 1)
    assert tg.max(x, 0).indices.tolist() == [1, 0]
    assert x.max(tg.Tensor([[2.0, 2.0], [2.0, 2.0]])).tolist() == [[2.0, 5.0], [7.0, 2.0]]
    assert x.min(tg.Tensor(3.0)).tolist() == [[1.0, 3.0], [3.0, 2.0]]
    assert np.max(x, axis=1).tolist() == [5.0, 7.0]  # numpy functions keep numpy's meaning
    assert np.min(x, 0).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="not both"):
        x.max(1, axis=1)


def test_max_with_nan_and_0d_and_empty():
    ours = tg.Tensor([[1.0, np.nan, 3.0]]).max(1)
    assert np.isnan(ours.values.item()) and ours.indices.tolist() == [1]
    zero_d = tg.Tensor(2.0).max(0)
    assert zero_d.values.item() == 2.0 and zero_d.indices.item() == 0
    with pytest.raises(IndexError, match="max"):
        tg.zeros(0, 2).max(0)


def test_argmax_argmin_dims_keepdim():
    t = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    x = tg.Tensor(t.numpy())
    for dim in (None, 0, 1, -1):
        for keepdim in (False, True):
            assert x.argmax(dim, keepdim).tolist() == t.argmax(dim, keepdim).tolist()
            assert tg.argmin(x, dim, keepdim).tolist() == t.argmin(dim, keepdim).tolist()
    assert x.argmax(axis=1).tolist() == [1, 0]


def test_any_all_return_bool_tensors():
    x = tg.Tensor([[0.0, 1.0], [0.0, 0.0]])
    assert x.any().dtype == np.bool_ and x.any().shape == ()
    assert bool(x.any()) and not bool(x.all())
    assert x.any(dim=1).tolist() == [True, False] and x.all(0, keepdim=True).shape == (1, 2)
    assert tg.any(x, (0, 1)).item() is True and tg.all(tg.zeros(0)).item() is True
    if x.any():  # the truth value of the 0-d result
        pass
    else:
        pytest.fail("if t.any() should be true")


# ---- sort, topk, kthvalue, median ------------------------------------------------------------
def test_sort_is_stable_both_ways_and_puts_nan_last():
    t = torch.tensor([2.0, 1.0, 2.0, np.nan, 1.0])
    x = tg.Tensor(t.numpy())
    for descending in (False, True):
        ours, theirs = x.sort(descending=descending), t.sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        assert ours.indices.tolist() == theirs.indices.tolist()
    assert x.argsort().tolist() == t.argsort(stable=True).tolist()


def test_topk_kthvalue_median_edge_cases():
    x = tg.Tensor([4.0, 1.0, 3.0, 2.0])
    assert tg.topk(x, 0).values.shape == (0,)
    assert x.topk(2, largest=False).values.tolist() == [1.0, 2.0]
    with pytest.raises(IndexError, match="topk"):
        x.topk(5)
    with pytest.raises(IndexError, match="kthvalue"):
        x.kthvalue(0)
    assert x.median().item() == 2.0  # the lower of the two middle values
    assert np.isnan(tg.Tensor([1.0, np.nan, 3.0]).median().item())
    assert np.isnan(tg.zeros(0).median().item())
    assert tg.Tensor([[1.0, np.nan, 3.0]]).median(1).indices.tolist() == [1]


distinct_2d = shapes(min_dims=1, max_dims=3).flatmap(arrays)


@given(values=distinct_2d, data=st.data())
def test_selections_match_torch_values_indices_and_gradients(values, data):
    dim = data.draw(st.integers(-values.ndim, values.ndim - 1), label="dim")
    n = values.shape[dim]
    keepdim = data.draw(st.booleans(), label="keepdim")
    k = data.draw(st.integers(1, n), label="k")
    descending = data.draw(st.booleans(), label="descending")
    x, tx = _pair(values)
    calls = [
        (x.max(dim, keepdim), tx.max(dim, keepdim)),
        (x.min(dim=dim, keepdim=keepdim), tx.min(dim=dim, keepdim=keepdim)),
        (x.sort(dim, descending), tx.sort(dim, descending)),
        (x.topk(k, dim), tx.topk(k, dim)),
        (x.topk(k, dim, largest=False), tx.topk(k, dim, largest=False)),
        (x.kthvalue(k, dim, keepdim), tx.kthvalue(k, dim, keepdim)),
        (x.median(dim, keepdim), tx.median(dim, keepdim)),
    ]
    for ours, theirs in calls:
        assert ours.indices.tolist() == theirs.indices.tolist()
        _grads_match(ours.values, theirs.values, x, tx)
    _grads_match(x.median(), tx.median(), x, tx)
