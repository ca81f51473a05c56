"""Registered primitive ops, grouped by kind. Importing this package fills the registry."""

from ..registry import OPS, OpDef, apply, register_op, registry
from . import (  # noqa: F401
    activation,
    conv,
    elementwise,
    fused,
    linalg,
    math,  # part "math" of issue #14
    movement,
    pool,
    reduce,
    scan,
    selection,  # p14-select
)

__all__ = ["OPS", "OpDef", "apply", "register_op", "registry"]
