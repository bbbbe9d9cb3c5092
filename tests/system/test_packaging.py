"""Packaging: the editable install prints nothing at import, the sdist carries what a build needs,
and the wheel build configuration (cibuildwheel, persistent build directory) is in pyproject.

These tests need the source tree (pyproject.toml beside tests/) and skip where fastnn is tested
from an installed wheel only."""
import os
import subprocess
import sys
import tarfile
import venv

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYPROJECT = os.path.join(ROOT, "pyproject.toml")
pytestmark = pytest.mark.skipif(not os.path.exists(PYPROJECT), reason="not run from a source tree")


def _pyproject():
    import tomllib

    with open(PYPROJECT, "rb") as f:
        return tomllib.load(f)


def test_build_configuration():
    cfg = _pyproject()["tool"]
    skb = cfg["scikit-build"]
    assert skb["editable"]["verbose"] is False
    assert skb["build-dir"].startswith("build/")
    cib = cfg["cibuildwheel"]
    assert set(cib["archs"]) == {"x86_64", "aarch64"} and "musllinux" in cib["skip"]
    assert cib["linux"]["manylinux-x86_64-image"] and cib["linux"]["manylinux-aarch64-image"]
    assert "import fastnn" in cib["test-command"]


def test_sdist_carries_sources_and_build_files(tmp_path):
    pytest.importorskip("scikit_build_core")
    code = "import sys; from scikit_build_core.build import build_sdist; print(build_sdist(sys.argv[1]))"
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    name = r.stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / name) as tar:
        members = [m.split("/", 1)[1] for m in tar.getnames() if "/" in m]
    for needed in ("CMakeLists.txt", "pyproject.toml", "README.md", "cmake/engine/CMakeLists.txt",
                   "cmake/build_info.py.in", "python/fastnn/__init__.py", "python/fastnn/keras/__init__.py",
                   "src/cpp/bindings/module.cpp"):
        assert needed in members, needed
    assert any(m.startswith("src/cpp/") and m.endswith(".h") for m in members)
    assert not any(m.startswith(("build/", ".venv/", "dist/")) or m.endswith(".so") for m in members)


@pytest.mark.slow
def test_editable_install_prints_nothing_on_import(tmp_path):
    """`pip install -e . -Ceditable.rebuild=true` (the README's development install) in a temporary
    venv; importing fastnn there rebuilds quietly: stdout stays empty."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py = str(env_dir / "bin" / "python")
    probe = subprocess.run([py, "-c", "import scikit_build_core, pybind11, numpy"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("scikit-build-core, pybind11 or numpy is not importable for a no-isolation build")
    # The build folder persists under build/ (ignored by git), so a rerun compiles only what changed.
    build_dir = os.path.join(ROOT, "build", "test-editable")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTNN_", "PYTHON"))}
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "-e", ROOT,
                        "-Ceditable.rebuild=true", f"-Cbuild-dir={build_dir}"],
                       capture_output=True, text=True, timeout=900, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    r = subprocess.run([py, "-c", "import fastnn, fastnn.keras; fastnn.Sequential([fastnn.layers.Dense(1, input_shape=(2,))])"],
                       capture_output=True, text=True, timeout=600, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == ""
    where = subprocess.run([py, "-c", "import fastnn, sys; sys.stderr.write(fastnn.__file__)"],
                           capture_output=True, text=True, timeout=600, env=env, cwd=str(tmp_path))
    assert where.stdout == "" and where.stderr.startswith(os.path.join(ROOT, "python", "fastnn"))
