"""Linear algebra against PyTorch: einsum (every kind of subscript), tensordot, outer, bmm,
baddbmm, and tg.linalg's inv/det/solve/cholesky on batches, singular and non-positive-definite
matrices, with gradients (and gradients of gradients)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.testing.strategies import positive_definite, well_conditioned

torch = pytest.importorskip("torch")


def _leaves(*arrays):
    ours = [tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    return ours, theirs


def _check(ours_fn, torch_fn, *arrays, rtol=1e-9, atol=1e-10):
    """Same values and same VJPs (random upstream gradient) for every input."""
    ours, theirs = _leaves(*arrays)
    out, expected = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(0).standard_normal(out.shape)
    got = tg.grad(out, ours, tg.Tensor(g, dtype=np.float64), allow_unused=True)
    want = torch.autograd.grad(expected, theirs, torch.tensor(g), allow_unused=True)
    for a, b, x in zip(got, want, arrays):
        a = np.zeros(np.shape(x)) if a is None else a.data
        b = np.zeros(np.shape(x)) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]), ("ij->", [(2, 3)]), ("ji", [(2, 3)]), ("ij->ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,i->", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("iij->j", [(3, 3, 2)]), ("ijk,ikj->i", [(2, 3, 3), (2, 3, 3)]),
    ("...,...->...", [(2, 1), (3,)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,i,i->i", [(3,), (3,), (3,)]), ("", [()]), (",->", [(), ()]), (",i->i", [(), (3,)]),
    ("ij,ij->ij", [(2, 1), (2, 3)]), ("i...->...", [(2, 3, 4)]), ("...ii->...i", [(2, 3, 3)]),
    ("i i , i j -> j", [(2, 2), (2, 3)]), ("ab,cd->abcd", [(2, 1), (1, 3)]),
    ("ijk,jkl->il", [(2, 3, 4), (3, 4, 2)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
def test_einsum_matches_numpy_and_torch(equation, shapes):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes]
    assert tg.einsum(equation, *[tg.Tensor(a, dtype=np.float64) for a in arrays]).shape == \
        np.shape(np.einsum(equation, *arrays))
    _check(lambda *xs: tg.einsum(equation, *xs), lambda *xs: torch.einsum(equation, *xs),
           *arrays)


def test_einsum_grad_of_grad_and_list_operands():
    a, b = (tg.Tensor(np.random.default_rng(i).standard_normal((2, 3, 3)), dtype=np.float64,
                      requires_grad=True) for i in range(2))
    assert tg.gradgradcheck(lambda x, y: tg.einsum("bij,bjk->bik", x * x, y), (a, b))
    assert tg.einsum("bii->b", [a]).shape == (2,)


@pytest.mark.parametrize("equation,shapes,message", [
    ("ij,jk->ik", [(2, 3), (4, 5)], "sizes 3 and 4"),
    ("ij->ik", [(2, 3)], "appear in no operand"),
    ("ij->ii", [(2, 2)], "repeat"),
    ("ijk->i", [(2, 3)], "name 3 dims"),
    ("ij,jk->ik", [(2, 3)], "names 2 operands"),
    ("i1->i", [(2, 2)], "bad subscripts"),
    ("ii->i", [(2, 3)], "sizes 2 and 3"),
])
def test_einsum_errors_name_the_problem(equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        tg.einsum(equation, *[tg.ones(*s) for s in shapes])


@given(data=st.data())
def test_einsum_two_operand_contractions_match_torch(data):
    """Random two-operand equations over up to 4 labels: batch, contracted, free, summed."""
    labels = "abcd"
    la = "".join(data.draw(st.permutations(labels))[:data.draw(st.integers(0, 4))])
    lb = "".join(data.draw(st.permutations(labels))[:data.draw(st.integers(0, 4))])
    out = "".join(c for c in labels if c in la + lb and data.draw(st.booleans()))
    sizes = {c: data.draw(st.integers(1, 3)) for c in labels}
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(tuple(sizes[c] for c in term)) for term in (la, lb)]
    equation = f"{la},{lb}->{out}"
    _check(lambda *xs: tg.einsum(equation, *xs), lambda *xs: torch.einsum(equation, *xs),
           *arrays)


def test_tensordot_outer_bmm_baddbmm_match_torch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5))
    _check(lambda x, y: tg.tensordot(x, y, 2), lambda x, y: torch.tensordot(x, y, 2), a, b)
    _check(lambda x, y: tg.tensordot(x, y, dims=([1, 0], [0, 2])),
           lambda x, y: torch.tensordot(x, y, dims=([1, 0], [0, 2])),
           a, rng.standard_normal((3, 4, 2)))
    _check(lambda x, y: tg.tensordot(x, y, 0), lambda x, y: torch.tensordot(x, y, 0),
           rng.standard_normal(2), rng.standard_normal(3))
    _check(tg.outer, torch.outer, rng.standard_normal(2), rng.standard_normal(3))
    m1, m2 = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 3, 5))
    _check(tg.bmm, torch.bmm, m1, m2)
    _check(lambda c, x, y: c.baddbmm(x, y, beta=0.5, alpha=2.0),
           lambda c, x, y: c.baddbmm(x, y, beta=0.5, alpha=2.0),
           rng.standard_normal((4, 1, 5)), m1, m2)
    nan = tg.full((4, 2, 5), float("nan"))
    assert np.isfinite(tg.baddbmm(nan, tg.Tensor(m1), tg.Tensor(m2), beta=0).data).all()
    with pytest.raises(ValueError, match="bmm"):
        tg.bmm(tg.ones(2, 3), tg.ones(3, 2))
    with pytest.raises(ValueError, match="outer"):
        tg.outer(tg.ones(2, 2), tg.ones(2))


# ---- tg.linalg ------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_inv_det_solve_cholesky_on_batches_match_torch(batch):
    rng = np.random.default_rng(len(batch))
    a = well_conditioned(rng, batch + (3,))
    spd = positive_definite(rng, batch + (3,))
    _check(tg.linalg.inv, torch.linalg.inv, a)
    _check(tg.linalg.det, torch.linalg.det, a)
    _check(tg.linalg.cholesky, torch.linalg.cholesky, spd)
    _check(lambda s: tg.linalg.cholesky(s, upper=True),
           lambda s: torch.linalg.cholesky(s, upper=True), spd)
    _check(tg.linalg.solve, torch.linalg.solve, a, rng.standard_normal(batch + (3, 2)))
    _check(tg.linalg.solve, torch.linalg.solve, a, rng.standard_normal(batch + (3,)))
    _check(tg.linalg.solve, torch.linalg.solve, a, rng.standard_normal((3,)))


@pytest.mark.parametrize("matrix,cofactors", [
    ([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),                       # rank 1 of 2
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],                         # rank 2 of 3
     [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
    ([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]], np.zeros((3, 3))),     # rank 1 of 3
    ([[0.0]], [[1.0]]),
])
def test_det_gradient_of_singular_matrices_is_the_cofactor_matrix(matrix, cofactors):
    """A deliberate difference: PyTorch 2.13 returns 0 for an exactly singular matrix of rank
    n-1, where the derivative (the cofactor matrix, what finite differences see) is not 0."""
    a = tg.Tensor(np.array(matrix), dtype=np.float64, requires_grad=True)
    tg.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.data, cofactors, atol=1e-9)
    assert tg.gradcheck(tg.linalg.det, (a,))
    batch = tg.Tensor(np.stack([np.array(matrix), np.eye(len(matrix))]), dtype=np.float64,
                      requires_grad=True)
    tg.linalg.det(batch).sum().backward()
    np.testing.assert_allclose(batch.grad.data[0], cofactors, atol=1e-9)
    np.testing.assert_allclose(batch.grad.data[1], np.eye(len(matrix)), atol=1e-9)


def test_det_grad_of_grad_also_when_singular():
    for values in ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
                   well_conditioned(np.random.default_rng(3), (2, 3))):
        a = tg.Tensor(np.array(values), dtype=np.float64, requires_grad=True)
        assert tg.gradgradcheck(tg.linalg.det, (a,))


def test_inv_solve_cholesky_grad_of_grad():
    rng = np.random.default_rng(5)
    a = tg.Tensor(well_conditioned(rng, (2, 3)), dtype=np.float64, requires_grad=True)
    b = tg.Tensor(rng.standard_normal((3, 2)), dtype=np.float64, requires_grad=True)
    s = tg.Tensor(positive_definite(rng, (3,)), dtype=np.float64, requires_grad=True)
    assert tg.gradgradcheck(tg.linalg.inv, (a,))
    assert tg.gradgradcheck(tg.linalg.solve, (a, b))
    assert tg.gradgradcheck(tg.linalg.cholesky, (s,))


def test_linalg_errors_name_the_function():
    singular = tg.Tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError, match="inv"):
        tg.linalg.inv(singular)
    with pytest.raises(np.linalg.LinAlgError, match="solve"):
        tg.linalg.solve(singular, tg.ones(2))
    with pytest.raises(np.linalg.LinAlgError, match="cholesky"):
        tg.linalg.cholesky(tg.Tensor([[1.0, 0.0], [0.0, -1.0]]))
    with pytest.raises(ValueError, match="square"):
        tg.linalg.det(tg.ones(2, 3))
    with pytest.raises(TypeError, match="floating"):
        tg.linalg.inv(tg.Tensor(np.eye(2, dtype=np.int64)))
    with pytest.raises(ValueError, match="solve"):
        tg.linalg.solve(tg.eye(2), tg.ones(3, 1))
    assert tg.linalg.det(tg.eye(3)).item() == 1.0 and tg.eye(2).inverse().tolist() == \
        [[1.0, 0.0], [0.0, 1.0]] and tg.eye(2).det().item() == 1.0


def test_float32_stays_float32():
    a = tg.Tensor(well_conditioned(np.random.default_rng(0), (3,)), dtype=np.float32)
    for fn in (tg.linalg.inv, tg.linalg.det):
        assert fn(a).dtype == np.float32
    assert tg.einsum("ij,jk->ik", a, a).dtype == np.float32
