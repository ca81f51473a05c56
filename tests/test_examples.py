"""Every example runs offline with a tiny budget and answers --help."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


SCRIPTS = [p for p in sorted(EXAMPLES.glob("*.py")) if "argparse" in p.read_text()]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_help(script):
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "usage:" in out


@pytest.mark.parametrize("name, argv, minimum", [
    ("train_mlp", ["--dataset", "digits", "--epochs", "1", "--limit", "1000"], 0.5),
    ("train_cnn", ["--dataset", "digits", "--epochs", "2", "--limit", "1000"], 0.5),
])
def test_training_examples_learn(name, argv, minimum, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")
    assert module["main"](argv) > minimum


def test_graph_model_file_defines_what_the_drawer_needs():
    namespace = runpy.run_path(str(EXAMPLES / "graph_model.py"), run_name="example")
    assert {"model", "example_input", "loss_fn", "target"} <= set(namespace)
