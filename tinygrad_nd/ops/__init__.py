"""Registered primitive ops, grouped by kind. Importing this package fills the registry."""

from ..registry import OPS, OpDef, apply, register_op, registry
from . import activation, conv, elementwise, fused, linalg, movement, pool, reduce  # noqa: F401

__all__ = ["OPS", "OpDef", "apply", "register_op", "registry"]
