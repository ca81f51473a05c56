"""The registry is complete: every op is testable, documented, and reachable by users."""

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_nd as tg
import tinygrad_nd.functional as F
import tinygrad_nd.nn.functional as NF
from tinygrad_nd.autograd import Function
from tinygrad_nd.registry import OPS, register_op
from tinygrad_nd.testing import assert_grad_close, op_inputs

# Ops reached through an operator or a differently named method rather than a same-name method.
ALIASES = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__",
           "pow": "__pow__", "neg": "__neg__", "matmul": "__matmul__", "cast": "astype",
           "getitem": "__getitem__"}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_has_an_input_strategy(name):
    @settings(max_examples=3)
    @given(op_inputs(name))
    def draws(case):
        assert case.arrays

    draws()


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_is_reachable_as_tensor_method_or_function(name):
    if OPS[name].adjoint_of is not None:  # internal: reached through the other op's gradient
        assert OPS[name].adjoint_of in OPS
        assert not any(hasattr(home, name) for home in (F, NF)) or name == "index_add"
        return
    homes = (tg.Tensor, F, NF, tg.linalg)
    assert any(hasattr(home, ALIASES.get(name, name)) for home in homes), \
        f"op {name!r} has no Tensor method and no (nn.)functional or linalg function"


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_documents_its_derivative(name):
    assert OPS[name].doc, f"op {name!r}: its class docstring should state the derivative"


def test_registering_an_op_puts_it_under_the_generic_machinery():
    @register_op("cube_for_test", nin=1, reference=lambda x: x ** 3)
    class Cube(Function):
        """z = x**3;  dz/dx = 3 x**2"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (g * 3 * x * x,)

    try:
        assert "cube_for_test" in tg.registry()

        @settings(max_examples=5)
        @given(op_inputs("cube_for_test"))
        def check(case):
            assert_grad_close(lambda x: tg.ops.apply("cube_for_test", x),
                              case.tensors(OPS["cube_for_test"]))

        check()
        with pytest.raises(ValueError, match="already registered"):
            register_op("cube_for_test", nin=1)(Cube)
    finally:
        OPS.pop("cube_for_test")


def test_a_wrong_backward_is_caught_with_the_element_named():
    @register_op("bad_square_for_test", nin=1)
    class BadSquare(Function):
        """z = x**2;  dz/dx = 2x (deliberately wrong below)"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (g * x,)  # missing factor 2

    try:
        x = tg.Tensor(np.array([1.0, 2.0]), dtype=np.float64, requires_grad=True)
        with pytest.raises(tg.GradcheckError, match=r"input 0 .*element \(1,\).*analytic 2 vs "
                                                    r"numeric 4"):
            tg.gradcheck(lambda x: tg.ops.apply("bad_square_for_test", x), (x,))
        assert not tg.gradcheck(lambda x: tg.ops.apply("bad_square_for_test", x), (x,),
                                raise_exception=False)
        for mode in ("central", "complex_step", "random_direction"):
            with pytest.raises(tg.GradcheckError, match=mode):
                assert_grad_close(lambda x: tg.ops.apply("bad_square_for_test", x), [x], mode=mode)
    finally:
        OPS.pop("bad_square_for_test")


def test_unknown_shape_rule_is_refused():
    with pytest.raises(ValueError, match="unknown shape_rule"):
        register_op("x", nin=1, shape_rule="nonsense")


def test_subpackages_are_reachable_from_the_top_level():
    assert callable(tg.viz.draw_graph) and callable(tg.diagnostics.diagnose)
    assert callable(tg.experiments.run_vanishing) and callable(tg.testing.op_inputs)
    with pytest.raises(AttributeError, match="no attribute 'vizz'"):
        tg.vizz  # noqa: B018


def test_a_separate_first_order_backward_is_a_declared_exception():
    """One backward per op; an op that adds ``backward_arrays`` says why in its docstring."""
    separate = sorted(name for name, op in OPS.items()
                      if op.function.backward_arrays is not None)
    for name in separate:
        doc = OPS[name].function.backward_arrays.__doc__ or ""
        assert "first-order" in doc.lower(), f"{name}.backward_arrays does not say why"
    assert len(separate) <= 3, separate
