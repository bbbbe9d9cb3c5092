"""The CUDA sources compile (a compile break fails the suite wherever nvcc and the cuBLASLt headers
are present; CI has nvcc and gets cuBLASLt from the nvidia-cublas wheel of the test extra), and the
build options behave: FASTNN_CUDA must be AUTO/ON/OFF, ON without a compiler is an error, the default
architectures are every one from Turing to Hopper the toolkit has, plus PTX.

The compile check configures src/cuda on its own for one architecture (sm_90) to stay within a few
minutes on two cores; the package build compiles them all."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "cuda"


def _nvcc():
    for cand in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if cand and os.path.exists(cand):
            return cand
    return None


def _cublas_headers():
    for pkg in ("nvidia.cu13", "nvidia.cublas"):
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        for base in (spec.submodule_search_locations if spec and spec.submodule_search_locations else []):
            if (Path(base) / "include" / "cublasLt.h").exists():
                return base
    nvcc = _nvcc()
    if nvcc and (Path(nvcc).resolve().parents[1] / "include" / "cublasLt.h").exists():
        return str(Path(nvcc).resolve().parents[1])
    return None


needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
needs_nvcc = pytest.mark.skipif(_nvcc() is None, reason="nvcc (the CUDA compiler) is not installed")


def _configure(build, *defs, env=None):
    cmd = ["cmake", "-S", str(SRC), "-B", str(build), f"-DPython_EXECUTABLE={sys.executable}", *defs]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


@needs_cmake
@needs_nvcc
@pytest.mark.slow
def test_cuda_sources_compile(tmp_path):
    root = _cublas_headers()
    if root is None:
        pytest.skip("cuBLASLt headers not found (pip install nvidia-cublas)")
    r = _configure(tmp_path, f"-DCMAKE_CUDA_COMPILER={_nvcc()}", "-DFASTNN_CUDA_ARCHITECTURES=90",
                   f"-DFASTNN_CUBLAS_ROOT={root}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    b = subprocess.run(["cmake", "--build", str(tmp_path), "-j", "2"], capture_output=True, text=True,
                       timeout=900)
    assert b.returncode == 0, b.stdout[-6000:] + b.stderr[-3000:]
    assert (tmp_path / "libfastnn_cuda_kernels.a").exists()


@needs_cmake
@needs_nvcc
def test_default_architectures_are_turing_to_hopper_plus_ptx(tmp_path):
    root = _cublas_headers()
    if root is None:
        pytest.skip("cuBLASLt headers not found (pip install nvidia-cublas)")
    r = _configure(tmp_path, f"-DCMAKE_CUDA_COMPILER={_nvcc()}", f"-DFASTNN_CUBLAS_ROOT={root}")
    assert r.returncode == 0, r.stderr[-3000:]
    listed = subprocess.run([_nvcc(), "--list-gpu-arch"], capture_output=True, text=True).stdout
    want = [a for a in (75, 80, 86, 89, 90) if f"compute_{a}" in listed]
    line = next(ln for ln in r.stdout.splitlines() if "fastnn: CUDA architectures" in ln)
    archs = line.split("architectures", 1)[1].strip().split(";")
    assert archs == [f"{a}-real" for a in want] + [f"{want[-1]}-virtual"]


@needs_cmake
def test_check_without_a_compiler_says_so(tmp_path):
    env = dict(os.environ, CUDACXX="/nonexistent/nvcc", PATH="/usr/bin:/bin")
    r = _configure(tmp_path, env=env)
    assert r.returncode != 0
    assert "no CUDA compiler" in r.stdout + r.stderr or "CUDA" in r.stderr


@needs_cmake
@pytest.mark.parametrize("value, ok", [("OFF", True), ("BOGUS", False), ("ON", False)])
def test_fastnn_cuda_option(tmp_path, value, ok):
    """The package's option logic (cuda.cmake) with no CUDA compiler reachable: OFF and AUTO skip,
    ON fails, anything else is refused."""
    try:
        import pybind11
    except ImportError:
        pytest.skip("pybind11 is not installed (needed to configure the package)")
    env = dict(os.environ, CUDACXX="/nonexistent/nvcc", PATH="/usr/bin:/bin")
    cmd = ["cmake", "-S", str(ROOT), "-B", str(tmp_path), "-DFASTNN_PYTHON=ON", f"-DFASTNN_CUDA={value}",
           f"-DPython_EXECUTABLE={sys.executable}", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    out = r.stdout + r.stderr
    assert (r.returncode == 0) == ok, out[-3000:]
    if value == "OFF":
        assert "CUDA backend not built (FASTNN_CUDA=OFF)" in out
    if value == "BOGUS":
        assert "FASTNN_CUDA must be AUTO, ON or OFF" in out
    if value == "ON":
        assert "FASTNN_CUDA=ON but" in out
