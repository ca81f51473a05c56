"""Doctests that need an optional package are collected only where it is installed (CI
installs every extra, so there they always run)."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("tinygrad_nd/interop.py")  # its examples show PyTorch models
