"""Hypothesis strategies for tensors, shapes, axes, conv/pool hyper-parameters and op inputs.

Values are drawn as a seed plus a numpy generator rather than element by element: inputs are
spread on a jittered grid, so all values of one draw are distinct (no ties for max-like ops)
and kept away from the op's kinks, and shrinking still works on shapes and parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..registry import OPS, OpDef
from ..tensor import Tensor

Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass
class OpCase:
    """Inputs for one op call: arrays (tensor inputs, in order) and keyword parameters.

    Parameters
    ----------
    arrays : list of numpy arrays
        The op's tensor inputs, in order.
    params : dict
        The op's keyword parameters (an axis, a shape, a padding ...).
    """

    arrays: list[np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)

    def tensors(self, opdef: OpDef, requires_grad: bool = True) -> list[Tensor]:
        """The arrays as Tensors; differentiable float inputs get `requires_grad`.

        Parameters
        ----------
        opdef : OpDef
            The op the inputs are for: says which inputs are differentiable.
        requires_grad : bool
            False gives no input `requires_grad`.
        """
        return [Tensor(a, dtype=a.dtype,
                       requires_grad=requires_grad and opdef.is_differentiable(i)
                       and a.dtype.kind == "f")
                for i, a in enumerate(self.arrays)]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes (small by default, for finite differences).

    Parameters
    ----------
    min_dims, max_dims : int
        Range of the number of axes.
    min_side, max_side : int
        Range of each axis's length.
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of mutually broadcastable shapes, size-1 axes included.

    Parameters
    ----------
    num_shapes : int
        How many shapes per tuple.
    max_dims, max_side : int
        Largest number of axes and largest axis length.
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, max_dims=max_dims,
                                             max_side=max_side).map(lambda bs: bs.input_shapes)


def valid_axes(ndim: int, allow_none: bool = True) -> st.SearchStrategy[Any]:
    """`None`, one axis, or a tuple of distinct axes (negative ones included).

    Parameters
    ----------
    ndim : int
        Number of axes of the array the axes are for.
    allow_none : bool
        Whether `None` (all axes) may be drawn.
    """
    if ndim == 0:
        return st.none() if allow_none else st.just(())
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(
        tuple)
    options = [single, several] + ([st.none()] if allow_none else [])
    return st.one_of(*options)


def spread_values(rng: np.random.Generator, shapes_: list[tuple[int, ...]], low: Any, high: Any,
                  kinks: tuple[float, ...] = (), dtype: Any = np.float64) -> list[np.ndarray]:
    """Distinct values in (low, high) for several arrays, at least ~half a cell from kinks.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the values.
    shapes_ : list of tuples
        The arrays' shapes.
    low, high : float or tuple of floats
        One interval for all arrays, or a tuple of bounds, one per array.
    kinks : tuple of floats
        Points to keep away from (where the op is not differentiable).
    dtype : numpy dtype
        The arrays' dtype.
    """
    sizes = [int(np.prod(s)) for s in shapes_]
    out = []
    cells = rng.permutation(max(sum(sizes), 1))
    start = 0
    for i, (shape, size) in enumerate(zip(shapes_, sizes)):
        lo, hi = (low[i], high[i]) if isinstance(low, tuple) else (low, high)
        width = (hi - lo) / max(sum(sizes), 1)
        u = (cells[start:start + size] + 0.5 + rng.uniform(-0.2, 0.2, size)) * width + lo
        for k in kinks:
            near = np.abs(u - k) < 0.3 * width
            u[near] = k + np.where(u[near] >= k, 0.3, -0.3) * width
        out.append(u.reshape(shape).astype(dtype))
        start += size
    return out


def arrays(shape: tuple[int, ...], low: float = -3.0, high: float = 3.0,
           dtype: Any = np.float64) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of `shape` with distinct values in (low, high).

    Parameters
    ----------
    shape : tuple of ints
        The arrays' shape.
    low, high : float
        Bounds of the values (exclusive).
    dtype : numpy dtype
        The arrays' dtype.
    """
    return st.integers(0, 2**32 - 1).map(
        lambda seed: spread_values(np.random.default_rng(seed), [shape], low, high, (), dtype)[0])


def tensors(shape: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...] | None = None,
            low: float = -3.0, high: float = 3.0, dtype: Any = np.float64,
            requires_grad: bool = True) -> st.SearchStrategy[Tensor]:
    """Tensors of a given (or drawn) shape, float64 and requiring grad by default.

    Parameters
    ----------
    shape : tuple of ints or strategy of tuples, optional
        The tensors' shape, or a strategy drawing it (default: `shapes()`).
    low, high : float
        Bounds of the values (exclusive); the values are distinct.
    dtype : numpy dtype
        The tensors' dtype.
    requires_grad : bool
        Whether the tensors require gradients.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(tensors((2, 3)))
    ... def test_shape(t):
    ...     assert t.shape == (2, 3)
    >>> test_shape()
    """
    if shape is None:
        shape = shapes()
    shape_st = st.just(shape) if isinstance(shape, tuple) else shape
    return shape_st.flatmap(lambda s: arrays(s, low, high, dtype)).map(
        lambda a: Tensor(a, dtype=a.dtype, requires_grad=requires_grad))


@st.composite
def conv_configs(draw: Draw, dims: int | None = None) -> dict[str, Any]:
    """Consistent convolution settings for `dims` (drawn: 1 to 3) spatial axes: shapes of
    x, w and the output plus stride/padding/dilation/groups. 3-D draws keep smaller kernels
    and sizes, so finite differences stay cheap.

    Parameters
    ----------
    draw : callable
        Supplied by hypothesis (`@st.composite`): call the strategy without it.
    dims : int, optional
        Number of spatial axes (drawn from 1 to 3 when None).
    """
    dims = draw(st.integers(1, 3)) if dims is None else dims
    kmax, extra = (3, 3) if dims < 3 else (2, 1)
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, kmax)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(dims))
    size = []
    for k, p, d in zip(kernel, padding, dilation):
        least = max(1, d * (k - 1) + 1 - 2 * p)
        size.append(draw(st.integers(least, least + extra)))
    n = draw(st.integers(1, 2))
    out = tuple((s + 2 * p - d * (k - 1) - 1) // st_ + 1 for s, p, d, k, st_ in
                zip(size, padding, dilation, kernel, stride))
    return dict(x_shape=(n, cin, *size), w_shape=(cout, cin // groups, *kernel),
                out_shape=(n, cout, *out), stride=stride, padding=padding, dilation=dilation,
                groups=groups)


@st.composite
def pool_configs(draw: Draw, dims: int | None = None, dilated: bool = True) -> dict[str, Any]:
    """Consistent pooling settings for `dims` (drawn: 1 to 3) spatial axes: input shape,
    kernel, stride, padding (<= kernel/2), dilation (1 unless `dilated`), ceil_mode,
    count_include_pad. 3-D inputs are at least as large as the kernel without padding (PyTorch
    refuses smaller ones there, though not in 1-D or 2-D).

    Parameters
    ----------
    draw : callable
        Supplied by hypothesis (`@st.composite`): call the strategy without it.
    dims : int, optional
        Number of spatial axes (drawn from 1 to 3 when None).
    dilated : bool
        Whether dilations above 1 may be drawn.
    """
    from ..ops.pool import pool_output_size

    dims = draw(st.integers(1, 3)) if dims is None else dims
    kmax = 3 if dims < 3 else 2
    kernel = tuple(draw(st.integers(1, kmax)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2 if dilated else 1)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    size = []
    for k, p, d in zip(kernel, padding, dilation):
        # (a dilated window over a short input can hold only padding: PyTorch then sends the
        # gradient to a neighbouring channel's pixel, so those are tested in test_conv.py)
        least = max(1, d * (k - 1) + 1 - (2 * p if dims < 3 and d == 1 else 0))
        size.append(draw(st.integers(least, least + (3 if dims < 3 else 1))))
    x_shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)
    return dict(x_shape=x_shape, kernel_size=kernel, stride=stride, padding=padding,
                dilation=dilation, ceil_mode=ceil_mode, count_include_pad=draw(st.booleans()),
                out_shape=x_shape[:2] + pool_output_size(size, kernel, stride, padding,
                                                         dilation, ceil_mode))


def _draw_params(draw: Draw, opdef: OpDef) -> dict[str, Any]:
    return {k: draw(st.sampled_from(v)) for k, v in opdef.params.items()}


def _index(draw: Draw, shape: tuple[int, ...], rng: np.random.Generator) -> tuple[Any, ...]:
    """A basic index, or an integer-array index with repeats on the first axis."""
    if draw(st.booleans()) and shape:
        picks = rng.integers(0, shape[0], size=draw(st.integers(1, 5)))
        return (picks,) + ((slice(None, None, -1),) if len(shape) > 1 else ())
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return index if isinstance(index, tuple) else (index,)


# One builder per shape rule: (draw, opdef, rng) -> (input shapes, params) or a ready OpCase.
def _elementwise(draw, opdef, rng):
    return list(draw(broadcastable_shapes(opdef.nin))), _draw_params(draw, opdef)


def _reduce(draw, opdef, rng):
    shape = draw(shapes())
    return [shape], {"axis": draw(valid_axes(len(shape))), **_draw_params(draw, opdef)}


def _softmax(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    return [shape], {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


def _matmul(draw, opdef, rng):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm"]))
    a = (k,) if kind[0] == "v" else batch_a + (n, k)
    b = (k,) if kind[1] == "v" else batch_b + (k, m)
    return [a, b], {}


def _reshape(draw, opdef, rng):
    shape = draw(shapes())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (-1,), shape[::-1], shape + (1,), (1, size)]))
    return [shape], {"shape": target}


def _permute(draw, opdef, rng):
    shape = draw(shapes())
    return [shape], {"axes": tuple(draw(st.permutations(range(len(shape)))))}


def _expand(draw, opdef, rng):
    shape = draw(shapes(max_side=3))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    target = lead + tuple(draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    return [shape], {"shape": target}


def _getitem(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    return [shape], {"index": _index(draw, shape, rng)}


def _index_add(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    index = _index(draw, shape, rng)
    return [np.empty(shape)[index].shape], {"index": index, "shape": shape}


def _cat(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    pieces = [shape[:axis % len(shape)] + (draw(st.integers(1, 3)),) + shape[axis % len(shape) + 1:]
              for _ in range(draw(st.integers(1, 3)))]
    return pieces, {"axis": axis}


def _pad(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    params = _draw_params(draw, opdef)
    # PyTorch's limits: reflect pads less than the size, wrap (circular) at most the size
    top = [min(2, {"reflect": s - 1, "wrap": s}.get(params.get("mode"), 2)) for s in shape]
    widths = tuple((draw(st.integers(0, t)), draw(st.integers(0, t))) for t in top)
    return [shape], {"pad_width": widths, **params}


def _where(draw, opdef, rng):
    cond, x, y = draw(broadcastable_shapes(3))
    return OpCase([rng.random(cond) < 0.5] + spread_values(rng, [x, y], *opdef.input_domain(1)),
                  {})


def _linear(draw, opdef, rng):
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(shapes(min_dims=0, max_dims=2))
    return [batch + (n_in,), (n_out, n_in), (n_out,)], {}


def _cross_entropy(draw, opdef, rng):
    n, classes = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    logits = spread_values(rng, [(n, classes)], *opdef.input_domain(0))[0]
    return OpCase([logits, rng.integers(0, classes, n)], {})


# p14-select: gather / scatter inputs (the index is a parameter, as for getitem).
def _index_along(draw, rng, shape, dim, bounds, unique):
    """An index for selecting along `dim` of `shape`: each other side at most
    `bounds`'s; along `dim` 1..4 entries (with repeats unless `unique`)."""
    size = shape[dim]
    sides = [draw(st.integers(1, b)) if d != dim else
             draw(st.integers(1, size if unique else 4)) for d, b in enumerate(bounds)]
    if not unique:
        return rng.integers(0, size, size=sides)
    # distinct places along dim in each line, so no place is written twice
    picks = np.argsort(rng.random(sides[:dim] + [size] + sides[dim + 1:]), axis=dim)
    return np.take(picks, np.arange(sides[dim]), axis=dim)


def _gather(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return [shape], {"dim": dim, "index": _index_along(draw, rng, shape, dim % len(shape), shape,
                                                       False)}


def _scatter(draw, opdef, rng):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = _index_along(draw, rng, shape, dim % len(shape), shape, opdef.name == "scatter")
    src = tuple(s + draw(st.integers(0, 1)) for s in index.shape)
    return [shape, src], {"dim": dim, "index": index, **_draw_params(draw, opdef)}


# convolution and pooling, N-d (p14-conv)
CONV_KEYS = ("stride", "padding", "dilation", "groups")


def _convolution(draw, opdef, rng):
    c = draw(conv_configs())
    conf = {k: c[k] for k in CONV_KEYS}
    if opdef.shape_rule == "convolution":
        return [c["x_shape"], c["w_shape"]], conf
    if opdef.shape_rule == "convolution_input_grad":
        return [c["out_shape"], c["w_shape"]], {"x_shape": c["x_shape"], **conf}
    return [c["x_shape"], c["out_shape"]], {"w_shape": c["w_shape"], **conf}


def _pool(draw, opdef, rng):
    c = draw(pool_configs(dilated=opdef.name == "max_pool"))
    keys = ["kernel_size", "stride", "padding", "ceil_mode"]
    keys.append("dilation" if opdef.name == "max_pool" else "count_include_pad")
    conf = {k: c[k] for k in keys}
    if opdef.shape_rule == "pool":
        return [c["x_shape"]], conf
    return [c["out_shape"]], {"x_shape": c["x_shape"], **conf}


def _quotient(draw, opdef, rng):
    """x and y for fmod/remainder: y away from 0 (either sign), x = q y with the quotient q
    at least 0.1 from an integer, where the ops jump (x has the broadcast shape)."""
    shape_x, shape_y = draw(broadcastable_shapes(2))
    shape_x = np.broadcast_shapes(shape_x, shape_y)
    y = rng.uniform(0.5, 3.0, shape_y) * rng.choice([-1.0, 1.0], shape_y)
    q = rng.integers(-3, 4, shape_x) + rng.uniform(0.1, 0.9, shape_x)
    return OpCase([np.asarray(q * y), np.asarray(y)], _draw_params(draw, opdef))


def _batch_n(draw: Draw) -> tuple[int, ...]:
    """A batch shape (up to 2 dims) plus a matrix side n, as (*batch, n)."""
    return draw(shapes(min_dims=0, max_dims=2, max_side=3)) + (draw(st.integers(1, 4)),)


def well_conditioned(rng: np.random.Generator, batch_n: tuple[int, ...]) -> np.ndarray:
    """Square matrices (..., n, n) with condition numbers below ~2n: off-diagonal entries in
    (-1, 1) and a diagonal of +-(n + 1) (strictly diagonally dominant, signs drawn, so
    determinants of both signs), where finite differences are meaningful.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the entries.
    batch_n : tuple of ints
        The batch shape followed by the matrix side n.
    """
    *batch, n = batch_n
    a = rng.uniform(-1.0, 1.0, (*batch, n, n))
    diagonal = (n + 1.0) * rng.choice([-1.0, 1.0], (*batch, n))
    return a + diagonal[..., None] * np.eye(n)


def positive_definite(rng: np.random.Generator, batch_n: tuple[int, ...]) -> np.ndarray:
    """Symmetric positive definite matrices M M^T + n I (..., n, n), eigenvalues >= n.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the entries.
    batch_n : tuple of ints
        The batch shape followed by the matrix side n.
    """
    *batch, n = batch_n
    m = rng.uniform(-1.0, 1.0, (*batch, n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _solve(draw: Draw, rng: np.random.Generator) -> OpCase:
    a_batch, b_batch = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return OpCase([well_conditioned(rng, a_batch + (n,)), rng.uniform(-3, 3, b_batch + (n, k))])


INPUT_BUILDERS: dict[str, Callable[..., Any]] = {
    "elementwise": _elementwise, "reduce": _reduce, "softmax": _softmax, "matmul": _matmul,
    "reshape": _reshape, "permute": _permute, "expand": _expand, "getitem": _getitem,
    "index_add": _index_add, "cat": _cat, "pad": _pad, "where": _where, "linear": _linear,
    "cross_entropy": _cross_entropy,
    # p14-select
    "gather": _gather, "scatter": _scatter,
    # convolution and pooling, N-d (p14-conv)
    "convolution": _convolution, "convolution_input_grad": _convolution,
    "convolution_weight_grad": _convolution, "pool": _pool, "avg_pool_grad": _pool,
    # part "math" of issue #14
    "quotient": _quotient,
    # ---- p14-reduce: well-conditioned matrices for linear algebra ----
    "square_matrix": lambda draw, opdef, rng: OpCase([well_conditioned(rng, _batch_n(draw))]),
    "spd_matrix": lambda draw, opdef, rng: OpCase([positive_definite(rng, _batch_n(draw))]),
    "solve": lambda draw, opdef, rng: _solve(draw, rng),
}


@st.composite
def op_inputs(draw: Draw, op: OpDef | str, dtype: Any = np.float64) -> OpCase:
    """Valid inputs for a registered op, from its shape rule and hints (domain, kinks, params).

    Parameters
    ----------
    draw : callable
        Supplied by hypothesis (`@st.composite`): call the strategy without it.
    op : OpDef or str
        The registered op, or its name.
    dtype : numpy dtype
        Dtype of the float inputs.

    Examples
    --------
    >>> from hypothesis import given
    >>> import tinygrad_nd as tg
    >>> @given(op_inputs("matmul"))
    ... def test_matmul_runs(case):
    ...     a, b = case.tensors(tg.OPS["matmul"])
    ...     assert (a @ b).shape == np.matmul(case.arrays[0], case.arrays[1]).shape
    >>> test_matmul_runs()
    """
    opdef = OPS[op] if isinstance(op, str) else op
    builder = INPUT_BUILDERS.get(opdef.shape_rule)
    if builder is None:
        raise LookupError(f"op_inputs: no input strategy for shape rule {opdef.shape_rule!r} "
                          f"of op {opdef.name!r}; add one to INPUT_BUILDERS")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    built = builder(draw, opdef, rng)
    if isinstance(built, OpCase):
        built.arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in built.arrays]
        return built
    input_shapes, params = built
    n = len(input_shapes)
    domains = [opdef.input_domain(i) for i in range(n)]
    lows, highs = tuple(d[0] for d in domains), tuple(d[1] for d in domains)
    return OpCase(spread_values(rng, input_shapes, lows, highs, opdef.kinks, dtype), params)
