"""Hypothesis profiles: ``dev`` (default), ``ci`` (fixed examples, derandomized) and
``thorough`` (on demand). Choose with HYPOTHESIS_PROFILE; CI=true selects ``ci``."""

import os

import numpy as np
import pytest
from _browser import browser, site  # noqa: F401  (session-wide: one Chromium, one built site)
from hypothesis import HealthCheck, settings

import tinygrad_nd as tg

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=30, **_common)
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=400, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") == "true" else "dev"))


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with grad mode on, float32 default and a seeded generator."""
    tg.manual_seed(0)
    yield
    tg.set_default_dtype(np.float32)
    assert tg.is_grad_enabled(), "a test left grad mode off"
