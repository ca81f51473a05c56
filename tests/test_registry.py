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
           "getitem": "__getitem__",
           # N-d pooling ops, reached through their 1-3-d functions (p14-conv)
           "max_pool": "max_pool2d", "avg_pool": "avg_pool2d"}


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


def register_cube(name):
    """Register z = x**3 under ``name`` (tests pop it again)."""
    @register_op(name, nin=1, reference=lambda x: x ** 3)
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

    return Cube


def test_registering_an_op_puts_it_under_the_generic_machinery():
    Cube = register_cube("cube_for_test")

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


def test_a_users_registered_op_is_reachable_by_name_without_patching():
    register_cube("cube_by_name_for_test")
    try:
        x = tg.Tensor([2.0], requires_grad=True)
        y = x.apply("cube_by_name_for_test")
        assert y.op == "cube_by_name_for_test" and y.item() == 8.0
        assert tg.cube_by_name_for_test(x).item() == 8.0
        y.backward()
        assert x.grad.item() == 12.0
        assert "cube_by_name_for_test" not in vars(tg.Tensor)  # looked up, never patched on
    finally:
        OPS.pop("cube_by_name_for_test")
    with pytest.raises(AttributeError, match="cube_by_name_for_test"):
        x.apply("cube_by_name_for_test")
    with pytest.raises(AttributeError, match="no attribute 'sigmoidd'"):
        x.sigmoidd()  # typos stay errors
    with pytest.raises(AttributeError):
        x.apply("convolution_input_grad")  # internal adjoint ops are not user-facing
    assert "__getattr__" not in vars(tg.Tensor)  # (it would slow every attribute access)


def test_the_docs_op_table_and_the_readme_list_come_from_the_registry():
    from pathlib import Path

    from tinygrad_nd.registry import op_names_markdown, op_table_markdown

    table = op_table_markdown()
    for name in OPS:
        assert f"| `{name}` |" in table
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- ops:start")[1].split("-->", 1)[1].split("<!-- ops:end -->")[0]
    assert block.strip() == op_names_markdown().strip(), (
        "README's op list is stale; replace the block between the ops markers with "
        "tinygrad_nd.registry.op_names_markdown()")
    ops_page = (Path(__file__).parent.parent / "docs" / "api" / "ops.md").read_text()
    assert "<!-- registered-ops -->" in ops_page  # filled by docs_hooks.py at build time
