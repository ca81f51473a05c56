"""The BLAS thread policy (tinygrad_nd/threads.py): one thread unless the user chose."""

import os
import subprocess
import sys

import pytest

import tinygrad_nd as tg
from tinygrad_nd.threads import BLAS_ENV_VARS, ENV_VAR

COUNT = "import tinygrad_nd as tg; print(tg.blas_thread_count())"


def run(code, **env):
    clean = {k: v for k, v in os.environ.items() if k not in BLAS_ENV_VARS + (ENV_VAR,)}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout.strip(), done.stderr


def test_import_sets_one_thread():
    assert run(COUNT)[:2] == (0, "1")


def test_users_blas_variable_is_respected():
    code = "import numpy\nfrom tinygrad_nd.threads import blas_thread_count as c\n" \
           "before = c()\nimport tinygrad_nd\nprint(before == c())"
    assert run(code, OPENBLAS_NUM_THREADS="1")[:2] == (0, "True")
    # with the user's variable set, tinygrad_nd changes nothing
    assert run("import tinygrad_nd as tg; print(bool(tg.threads._original))",
               OMP_NUM_THREADS="1")[:2] == (0, "False")


def test_default_leaves_blas_alone_and_a_bad_value_names_the_variable():
    assert run("import tinygrad_nd as tg; print(bool(tg.threads._original))",
               **{ENV_VAR: "default"})[:2] == (0, "False")
    code, _, err = run("import tinygrad_nd", **{ENV_VAR: "two"})
    assert code != 0 and ENV_VAR in err and "'two'" in err


def test_context_manager_restores_and_arguments_are_checked():
    before = tg.blas_thread_count()
    with tg.blas_threads(1):
        assert tg.blas_thread_count() == 1
    assert tg.blas_thread_count() == before
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="positive int"):
            tg.set_blas_threads(bad)
        with pytest.raises(ValueError, match="positive int"):
            with tg.blas_threads(bad):
                pass
