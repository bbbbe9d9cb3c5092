"""mypy over the package with the configuration in pyproject.toml (lenient for now, see there):
the public signatures' hints must stay consistent. Skips where mypy is not installed."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_package_ships_py_typed():
    import fastnn

    assert os.path.exists(os.path.join(os.path.dirname(fastnn.__file__), "py.typed"))


def test_mypy_is_clean_on_the_package():
    pytest.importorskip("mypy")
    src = os.path.join(ROOT, "python", "fastnn")
    if not os.path.isdir(src):
        pytest.skip("the source tree is not here (installed package only)")
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", os.path.join(ROOT, "pyproject.toml"), src],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_ruff_is_clean():
    """The lint rules in pyproject.toml ([tool.ruff.lint]: correctness checks) over every Python file."""
    pytest.importorskip("ruff")
    if not os.path.isdir(os.path.join(ROOT, "python", "fastnn")):
        pytest.skip("the source tree is not here (installed package only)")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "python", "tests", "benchmarks", "examples"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
