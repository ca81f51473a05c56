"""The op registry: every differentiable primitive is declared once with `@register_op`.

The registry is the single list that the engine dispatches through, that the graph drawer
takes labels from, and that the generic gradient tests iterate over. Test hints are plain data
(domains, kinks, a numpy reference); the library itself never imports hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .autograd import Function
    from .tensor import Tensor

# Families of input shapes understood by `tinygrad_nd.testing.op_inputs`.
SHAPE_RULES = (
    "elementwise", "reduce", "softmax", "matmul", "reshape", "permute", "expand", "getitem",
    "index_add", "cat", "pad", "where", "linear", "cross_entropy",
    # p14-select: gather / scatter family (tinygrad_nd/ops/selection.py)
    "gather", "scatter",
    # convolution and pooling, N-d (p14-conv)
    "convolution", "convolution_input_grad", "convolution_weight_grad", "pool", "avg_pool_grad",
    # part "math" of issue #14: fmod/remainder, with x/y kept away from integers (their kinks)
    "quotient",
    # ---- p14-reduce: well-conditioned matrices for linear algebra ----
    "square_matrix", "spd_matrix", "solve",
)


@dataclass(frozen=True)
class OpDef:
    """Everything known about one registered op.

    Parameters
    ----------
    name : str
        Registered name, used by `apply` and as the graph label.
    function : type of Function
        The `tinygrad_nd.autograd.Function` subclass with forward/backward.
    nin : int or None
        Number of tensor inputs (`None` for variadic ops such as `cat`).
    shape_rule : str
        Which family of input shapes the op accepts (one of `SHAPE_RULES`).
    domain : tuple
        Open interval the inputs are drawn from in tests, per input or one for all.
    kinks : tuple of float
        Points where the derivative jumps; tests keep inputs away from them.
    differentiable : tuple of bool, optional
        Per input, whether a gradient flows to it (default: to every input).
    params : dict
        Example keyword arguments, each a tuple of values tests choose from.
    reference : callable, optional
        An independent numpy implementation of the forward, for value checks.
    smooth : bool
        Whether grad-of-grad tests apply (false for ops with kinks).
    adjoint_of : str, optional
        For an op that exists to make another op's backward differentiable
        (`convolution_input_grad` for `convolution`), that op's name: an internal op,
        reached through the other's gradient rather than by a user-facing function.
    """

    name: str
    function: type[Function]
    nin: int | None
    shape_rule: str
    domain: tuple[Any, ...] = (-3.0, 3.0)
    kinks: tuple[float, ...] = ()
    differentiable: tuple[bool, ...] | None = None
    params: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    reference: Callable[..., Any] | None = None
    smooth: bool = True
    adjoint_of: str | None = None

    def input_domain(self, i: int) -> tuple[float, float]:
        """Domain of input `i` (the shared one when a single interval was given).

        Parameters
        ----------
        i : int
            The input's position.
        """
        if self.domain and isinstance(self.domain[0], tuple):
            return self.domain[i]
        return self.domain  # type: ignore[return-value]

    def is_differentiable(self, i: int) -> bool:
        """Whether a gradient flows to input `i`.

        Parameters
        ----------
        i : int
            The input's position.
        """
        return True if self.differentiable is None else self.differentiable[i]

    @property
    def doc(self) -> str:
        """The op's derivative statement: the first paragraph of its class docstring, on
        one line."""
        text = (self.function.__doc__ or "").strip()
        return " ".join(line.strip() for line in text.split("\n\n")[0].splitlines())


OPS: dict[str, OpDef] = {}


def register_op(
    name: str,
    nin: int | None,
    shape_rule: str = "elementwise",
    **hints: Any,
) -> Callable[[type[Function]], type[Function]]:
    """Class decorator that registers a `Function` under `name`.

    Parameters
    ----------
    name : str
        The op's name (unique): `apply(name, ...)` runs it.
    nin : int or None
        Number of tensor inputs (`None` for a variadic op).
    shape_rule : str
        The family of input shapes it accepts (one of `SHAPE_RULES`), from which the
        generic tests draw inputs.
    **hints
        The other fields of `OpDef` (`domain`, `kinks`, `differentiable`, `params`,
        `reference`, `smooth`, `adjoint_of`).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nd.autograd import Function
    >>> @register_op("cube_example", nin=1, reference=lambda x: x**3)
    ... class Cube(Function):
    ...     '''y = x**3;  dy/dx = 3 x**2'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x**3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return (g * 3 * x * x,)
    >>> _ = OPS.pop("cube_example")
    """
    if shape_rule not in SHAPE_RULES:
        raise ValueError(f"register_op({name!r}): unknown shape_rule {shape_rule!r}; "
                         f"expected one of {SHAPE_RULES}")

    def decorate(cls: type[Function]) -> type[Function]:
        if name in OPS:
            raise ValueError(f"register_op: an op named {name!r} is already registered")
        cls.op_name = name
        OPS[name] = OpDef(name=name, function=cls, nin=nin, shape_rule=shape_rule, **hints)
        return cls

    return decorate


def apply(name: str, *inputs: Tensor, **params: Any) -> Tensor:
    """Run the registered op `name` on tensor `inputs` with keyword `params`.

    Parameters
    ----------
    name : str
        A registered op's name.
    *inputs : Tensor
        Its tensor inputs.
    **params
        Its keyword parameters (an axis, a shape ...).
    """
    return OPS[name].function.apply(*inputs, **params)


def registry() -> dict[str, OpDef]:
    """Return a copy of the registry: op name -> `OpDef`, sorted by name."""
    return dict(sorted(OPS.items()))


def user_facing(name: str) -> OpDef | None:
    """The op `name` if users may call it by name (`x.name()`, `tg.name(x)`): registered
    and not an internal adjoint of another op.

    Parameters
    ----------
    name : str
        The op's name.
    """
    op = OPS.get(name)
    return op if op is not None and op.adjoint_of is None else None


def op_table_markdown() -> str:
    """The docs' table of registered ops (name, kind, derivative, test hints), built from the
    registry at docs build time, so it can never drift from the code."""
    rows = ["| op | kind | derivative | inputs | notes |", "|---|---|---|---|---|"]
    for name, op in sorted(OPS.items()):
        kind = op.function.__module__.rsplit(".", 1)[-1]
        notes = []
        if op.adjoint_of:
            notes.append(f"adjoint of `{op.adjoint_of}` (internal)")
        if op.kinks:
            notes.append("kinks at " + ", ".join(f"{k:g}" for k in op.kinks))
        if not op.smooth:
            notes.append("first order only")
        if op.function.backward_arrays is not None:
            notes.append("separate first-order backward")
        doc = op.doc.replace("|", "\\|")
        rows.append(f"| `{name}` | {kind} | {doc} | {op.nin if op.nin is not None else 'n'} "
                    f"| {'; '.join(notes)} |")
    return "\n".join(rows)


def op_names_markdown(width: int = 92) -> str:
    """The README's list of registered op names: a count and the names in backticks,
    wrapped at `width` (`tests/test_registry.py` checks the README against it).

    Parameters
    ----------
    width : int
        Line width of the wrapped text.
    """
    import textwrap

    names = " ".join(sorted(OPS))
    text = (f"Registered ops ({len(OPS)}; each is tested against finite differences, "
            f"grad-of-grad and PyTorch by the same parametrised tests): `{names}`.")
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False))
