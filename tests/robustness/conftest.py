"""Helpers for the adversarial suite."""

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def open_tmp_path():
    """A fresh folder that any user may enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="tinygrad-nd-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
