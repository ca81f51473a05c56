"""Property-testing tools for ops and models: hypothesis strategies and gradient assertions.

This is the machinery tinygrad_nd's own test suite uses, public so that users can test their
own ops and models the same way.

Examples
--------
>>> import numpy as np, tinygrad_nd as tg
>>> from tinygrad_nd.testing import assert_grad_close
>>> x = tg.Tensor(np.linspace(0.5, 2, 6).reshape(2, 3), dtype=np.float64, requires_grad=True)
>>> assert_grad_close(lambda x: x.log() * x, [x], mode="complex_step")
"""

from .gradients import assert_grad_close
from .strategies import (
                         OpCase,
                         arrays,
                         broadcastable_shapes,
                         conv_configs,
                         op_inputs,
                         pool_configs,
                         shapes,
                         tensors,
                         valid_axes,
)

__all__ = [
    "OpCase", "arrays", "assert_grad_close", "broadcastable_shapes", "conv_configs",
    "op_inputs", "pool_configs", "shapes", "tensors", "valid_axes",
]
