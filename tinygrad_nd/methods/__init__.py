"""Tensor methods, grouped by op kind like `tinygrad_nd/ops/`: each an explicit, typed
one-liner that dispatches to a registered op. `Tensor` inherits them from these mixins, so
`tensor.py` keeps only what makes a Tensor (data, grad, the graph, operators)."""

from .elementwise import ElementwiseMethods
from .linalg import LinalgMethods
from .movement import MovementMethods
from .reduction import ReductionMethods

__all__ = ["ElementwiseMethods", "LinalgMethods", "MovementMethods", "ReductionMethods"]
