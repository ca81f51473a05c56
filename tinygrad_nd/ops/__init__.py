"""Registered primitive ops, grouped by kind. Importing this package fills the registry."""

from ..registry import OPS, OpDef, apply, register_op, registry
from . import (  # noqa: F401
    activation,
    conv,
    elementwise,
    fused,
    linalg,
    movement,
    reduce,
    scan,
)

__all__ = ["OPS", "OpDef", "apply", "register_op", "registry"]
