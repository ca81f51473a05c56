"""Gather, scatter, masks and __setitem__ against PyTorch: forward, gradient, edge cases.

The registered ops (gather, scatter, scatter_reduce) are also under the generic tests
(tests/test_ops_gradients.py, tests/test_vs_torch.py); here are the composites built on them
and the cases a random draw rarely hits: ties, repeated places, empty and 0-d tensors,
out-of-range indices.
"""

import numpy as np
import pytest

import tinygrad_nd as tg

torch = pytest.importorskip("torch")


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def check_vs_torch(ours, theirs, *arrays, grad=True):
    """``ours(*tensors)`` matches ``theirs(*torch_tensors)`` in values, shapes, dtype kind and
    (for float inputs, ``grad=True``) the vector-Jacobian product of a random upstream."""
    xs = [tg.Tensor(a, dtype=a.dtype, requires_grad=grad and a.dtype.kind == "f")
          for a in arrays]
    ts = [torch.tensor(a, requires_grad=x.requires_grad) for a, x in zip(arrays, xs)]
    outs, wants = _as_list(ours(*xs)), _as_list(theirs(*ts))
    assert len(outs) == len(wants)
    for o, w in zip(outs, wants):
        assert o.shape == tuple(w.shape)
        np.testing.assert_allclose(o.data, w.detach().numpy(), rtol=1e-12, atol=1e-12)
    live = [i for i, x in enumerate(xs) if x.requires_grad]
    if not live:
        return
    rng = np.random.default_rng(0)
    ups = [rng.standard_normal(o.shape) for o in outs]
    ours_total = sum((o * u).sum() for o, u in zip(outs, ups))
    theirs_total = sum((w * torch.tensor(u)).sum() for w, u in zip(wants, ups))
    got = tg.grad(ours_total, [xs[i] for i in live], allow_unused=True)
    want = torch.autograd.grad(theirs_total, [ts[i] for i in live], allow_unused=True)
    for i, g, w in zip(live, got, want):
        w = np.zeros(arrays[i].shape) if w is None else w.numpy()
        g = np.zeros(arrays[i].shape) if g is None else g.data
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"input {i}")


def _t(index):
    """The same index for both libraries: a numpy array (ours) and a torch tensor."""
    return np.asarray(index), torch.as_tensor(np.asarray(index))


RNG = np.random.default_rng(42)
X = RNG.standard_normal((3, 4))
SRC = RNG.standard_normal((3, 4))
IDX = np.array([[0, 2, 2, 1], [1, 1, 0, 0]])          # repeated places along dim 0
ROWS = np.array([[3, 3, 0], [1, 0, 0], [2, 2, 2]])     # along dim 1, repeats


@pytest.mark.parametrize("dim, index", [(0, IDX), (1, ROWS), (-1, ROWS), (-2, IDX[:1, :2])])
def test_gather_matches_torch(dim, index):
    i, ti = _t(index)
    check_vs_torch(lambda x: tg.gather(x, dim, i), lambda x: torch.gather(x, dim, ti), X)
    check_vs_torch(lambda x: x.gather(dim, tg.tensor(i)), lambda x: x.gather(dim, ti), X)


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim, index", [(0, IDX), (1, ROWS)])
def test_scatter_reduce_matches_torch_with_repeated_places(reduce, include_self, dim, index):
    i, ti = _t(index)
    src = SRC[:index.shape[0], :index.shape[1]]
    check_vs_torch(lambda x, s: x.scatter_reduce(dim, i, s, reduce, include_self=include_self),
                   lambda x, s: x.scatter_reduce(dim, ti, s, reduce, include_self=include_self),
                   X, src)


@pytest.mark.parametrize("reduce", ["amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_amax_amin_share_the_gradient_among_ties(reduce, include_self):
    x = np.array([1.0, 3.0, 3.0, -3.0])
    src = np.array([3.0, 3.0, -3.0, 2.0, -3.0])
    i, ti = _t([1, 1, 3, 0, 3])
    check_vs_torch(lambda a, b: tg.scatter_reduce(a, 0, i, b, reduce, include_self=include_self),
                   lambda a, b: torch.scatter_reduce(a, 0, ti, b, reduce,
                                                     include_self=include_self), x, src)


def test_scatter_add_adds_repeats_and_scatter_writes():
    i, ti = _t(IDX)
    src = SRC[:2]
    check_vs_torch(lambda x, s: tg.scatter_add(x, 0, i, s),
                   lambda x, s: torch.scatter_add(x, 0, ti, s), X, src)
    check_vs_torch(lambda x, s: x.scatter_add(0, tg.tensor(i), s),
                   lambda x, s: x.scatter_add(0, ti, s), X, src)
    unique, tu = _t([[2, 0, 1, 1], [0, 2, 0, 2]])
    check_vs_torch(lambda x, s: tg.scatter(x, 0, unique, s),
                   lambda x, s: torch.scatter(x, 0, tu, s), X, src)
    check_vs_torch(lambda x: x.scatter(0, unique, value=7.5),
                   lambda x: x.scatter(0, tu, value=7.5), X)
    check_vs_torch(lambda x: x.scatter(0, unique, 7.5), lambda x: x.scatter(0, tu, 7.5), X)


def test_scatter_src_larger_than_index_gets_zero_gradient_outside():
    x = tg.zeros(3, requires_grad=True)
    src = tg.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    out = tg.scatter_add(x, 0, tg.tensor([2, 2]), src)
    assert out.tolist() == [0.0, 0.0, 3.0]
    out.backward(tg.Tensor([1.0, 2.0, 3.0]))
    assert src.grad.tolist() == [3.0, 3.0, 0.0, 0.0]  # (PyTorch refuses this backward)


def test_zero_dim_and_empty_gather_scatter():
    check_vs_torch(lambda x: tg.gather(x, 0, np.array(0)),
                   lambda x: torch.gather(x, 0, torch.tensor(0)), np.array(2.5))
    check_vs_torch(lambda x, s: tg.scatter_add(x, -1, np.array(0), s),
                   lambda x, s: torch.scatter_add(x, -1, torch.tensor(0), s),
                   np.array(2.5), np.array(1.5))
    empty, te = _t(np.zeros((0, 4), dtype=np.int64))
    check_vs_torch(lambda x: tg.gather(x, 0, empty), lambda x: torch.gather(x, 0, te), X)
    check_vs_torch(lambda x, s: tg.scatter_reduce(x, 0, empty, s, "mean"),
                   lambda x, s: torch.scatter_reduce(x, 0, te, s, "mean"), X, SRC[:0])


@pytest.mark.parametrize("call, op", [
    (lambda x: tg.gather(x, 0, tg.tensor([[3]])), "gather"),
    (lambda x: tg.gather(x, 1, tg.tensor([[-1]])), "gather"),
    (lambda x: tg.scatter(x, 0, tg.tensor([[5]]), tg.ones(1, 1)), "scatter"),
    (lambda x: tg.scatter_add(x, 1, tg.tensor([[4]]), tg.ones(1, 1)), "scatter_reduce"),
    (lambda x: tg.index_select(x, 1, tg.tensor([0, 4])), "index_select"),
    (lambda x: tg.take_along_dim(x, tg.tensor([12])), "gather"),
])
def test_out_of_range_index_names_the_op(call, op):
    with pytest.raises(IndexError, match=rf"{op}: index -?\d+ is out of"):
        call(tg.Tensor(X))


def test_argument_errors_name_the_op():
    x = tg.Tensor(X)
    with pytest.raises(IndexError, match="gather: dim=2 is out of range"):
        x.gather(2, tg.tensor([[0]]))
    with pytest.raises(RuntimeError, match="gather: index has 1 dims"):
        x.gather(0, tg.tensor([0]))
    with pytest.raises(RuntimeError, match="gather: index of shape .* is larger"):
        x.gather(0, tg.zeros(1, 5, dtype=tg.int64))
    with pytest.raises(TypeError, match="gather: index must be an integer"):
        x.gather(0, tg.zeros(1, 1))
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be one of"):
        x.scatter_reduce(0, tg.tensor([[0]]), tg.ones(1, 1), "prod")
    with pytest.raises(TypeError, match="scatter: src must have the dtype"):
        x.scatter(0, tg.tensor([[0]]), tg.ones(1, 1, dtype=tg.float64))
    with pytest.raises(TypeError, match="scatter: pass exactly one"):
        x.scatter(0, tg.tensor([[0]]))
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool"):
        x.masked_fill(tg.ones(3, 4), 0.0)
    with pytest.raises(RuntimeError, match="masked_select: mask of shape"):
        x.masked_select(tg.ones(2, dtype=bool) > 0)
    with pytest.raises(IndexError, match="index_select: index must be 1-D"):
        x.index_select(0, tg.tensor([[0]]))


@pytest.mark.parametrize("dim, index", [(0, [2, 0, 2]), (1, [3]), (-1, []), (1, 1)])
def test_index_select_matches_torch(dim, index):
    i, ti = _t(np.asarray(index, dtype=np.int64))
    check_vs_torch(lambda x: tg.index_select(x, dim, i), lambda x: torch.index_select(x, dim, ti),
                   X)
    check_vs_torch(lambda x: x.index_select(dim, tg.tensor(i)), lambda x: x.index_select(dim, ti),
                   X)


def test_index_select_on_zero_dim():
    check_vs_torch(lambda x: x.index_select(0, np.array(0)),
                   lambda x: x.index_select(0, torch.tensor(0)), np.array(1.5))


@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1), ()])
def test_masked_fill_and_masked_select_match_torch(mask_shape):
    m = RNG.random(mask_shape) < 0.5
    tm = torch.as_tensor(m)
    check_vs_torch(lambda x: x.masked_fill(m, -1.5), lambda x: x.masked_fill(tm, -1.5), X)
    check_vs_torch(lambda x, v: tg.masked_fill(x, m, v),
                   lambda x, v: torch.masked_fill(x, tm, v), X, np.array(0.25))
    check_vs_torch(lambda x: x.masked_select(m), lambda x: x.masked_select(tm), X)
    check_vs_torch(lambda x: tg.masked_select(x, m), lambda x: torch.masked_select(x, tm), X)


def test_masked_select_broadcasts_the_tensor_to_the_mask():
    m = RNG.random((2, 3, 4)) < 0.5
    check_vs_torch(lambda x: x.masked_select(m), lambda x: x.masked_select(torch.as_tensor(m)),
                   X)


@pytest.mark.parametrize("dim, shape", [(None, (5,)), (0, (2, 4)), (1, (3, 2)), (1, (1, 6)),
                                        (-2, (2, 1))])
def test_take_along_dim_matches_torch(dim, shape):
    i = RNG.integers(0, X.size if dim is None else X.shape[dim], shape)
    ti = torch.as_tensor(i)
    check_vs_torch(lambda x: tg.take_along_dim(x, i, dim),
                   lambda x: torch.take_along_dim(x, ti, dim), X)
    check_vs_torch(lambda x: x.take_along_dim(tg.tensor(i), dim),
                   lambda x: x.take_along_dim(ti, dim), X)


@pytest.mark.parametrize("array", [np.array([[0.0, 1.5], [2.0, 0.0]]), np.array(0.0),
                                   np.array(3.0), np.zeros((0, 3)), np.array([True, False]),
                                   np.array([[[0, 1], [1, 0]]])])
def test_nonzero_matches_torch_and_has_no_gradient(array):
    x = tg.Tensor(array, dtype=array.dtype)
    want = torch.nonzero(torch.as_tensor(array))
    got = tg.nonzero(x)
    assert got.shape == tuple(want.shape) and got.dtype == np.int64
    np.testing.assert_array_equal(got.data, want.numpy())
    wants = torch.nonzero(torch.as_tensor(array), as_tuple=True)
    gots = x.nonzero(as_tuple=True)
    assert len(gots) == len(wants)
    for g, w in zip(gots, wants):
        np.testing.assert_array_equal(g.data, w.numpy())
    if array.dtype.kind == "f":
        assert not tg.nonzero(tg.Tensor(array, requires_grad=True)).requires_grad


def test_setitem_without_grad_follows_pytorch_indexing():
    x = tg.zeros(2, 3, 4)
    t = torch.zeros(2, 3, 4)
    value = np.arange(6.0).reshape(3, 2)
    x[1, :, [0, 1]] = value
    t[1, :, [0, 1]] = torch.as_tensor(value, dtype=torch.float32)
    np.testing.assert_array_equal(x.data, t.numpy())


def test_setitem_on_a_tensor_that_requires_grad_is_refused_under_grad_mode():
    leaf = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        leaf[0] = 2.0
    with pytest.raises(RuntimeError, match="__setitem__: a tensor that requires grad"):
        (leaf * 2)[0] = 2.0  # non-leaf: the same refusal (not recorded as copy-on-write)
    with pytest.raises(RuntimeError, match="the value requires grad"):
        tg.zeros(3)[0] = leaf[1]
    with tg.no_grad():  # what initialisers do, as in PyTorch
        leaf[0] = 2.0
    assert leaf.tolist() == [2.0, 1.0, 1.0]
    with torch.no_grad():
        tleaf = torch.ones(3, requires_grad=True)
        tleaf[0] = 2.0
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        tleaf[0] = 2.0


def test_selection_gradients_twice_differentiable():
    x = tg.Tensor(X, requires_grad=True)
    src = tg.Tensor(SRC[:2], requires_grad=True)
    assert tg.gradgradcheck(lambda a, b: tg.scatter_reduce(a, 0, IDX, b, "mean") ** 2, (x, src))
    assert tg.gradgradcheck(lambda a: tg.gather(a, 1, ROWS) ** 2, (x,))


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_integers_matches_torch(reduce, include_self):
    x, src, i = np.array([5, 0, 0, 7]), np.array([-2, 4, 3, 9]), np.array([0, 0, 2, 0])
    want = torch.as_tensor(x).scatter_reduce(0, torch.as_tensor(i), torch.as_tensor(src), reduce,
                                             include_self=include_self)
    got = tg.tensor(x).scatter_reduce(0, i, tg.tensor(src), reduce, include_self=include_self)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()
