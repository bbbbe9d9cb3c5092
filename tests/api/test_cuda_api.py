"""The CUDA backend as seen from a machine without a GPU (and the device selection logic on any
machine): import never fails, is_available() is False with a reason, compile(device="cuda") raises
that reason, "auto" picks the CPU, show_config says what was built."""
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import cuda

KNOWN_REASONS = ("fastnn was built without CUDA", "no CUDA driver (libcuda.so.1 not found)", "no device",
                 "fastnn._cuda cannot be loaded", "the CUDA runtime")

no_gpu = pytest.mark.skipif(cuda.is_available(), reason="a GPU is available here (the device tests run instead)")


def _model():
    m = fastnn.Sequential([fastnn.layers.Dense(4, activation="relu", input_shape=(3,)), fastnn.layers.Dense(1)])
    return m


def test_import_of_the_cuda_module_never_crashes():
    code = "import fastnn, fastnn.cuda as c; print(repr(c.is_available())); print(c.why_unavailable())"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    first, _, reason = r.stdout.partition("\n")
    assert first in ("True", "False")
    if first == "False":
        assert reason.strip().startswith(KNOWN_REASONS), reason


@no_gpu
def test_unavailable_with_a_reason():
    assert cuda.is_available() is False
    why = cuda.why_unavailable()
    assert why.startswith(KNOWN_REASONS), why
    assert cuda.device_count() == 0
    with pytest.raises(ValueError, match="no CUDA device"):
        cuda.device_name(0)


@no_gpu
def test_compile_cuda_raises_the_reason():
    m = _model()
    with pytest.raises(RuntimeError, match="CUDA is not available") as e:
        m.compile("adam", "mse", device="cuda")
    assert cuda.why_unavailable() in str(e.value)


@no_gpu
def test_auto_chooses_the_cpu_and_trains():
    m = _model()
    m.compile("adam", "mse", device="auto")
    assert m.device == "cpu"
    x = np.random.default_rng(0).standard_normal((32, 3)).astype("float32")
    h = m.fit(x, x[:, :1], epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()


@pytest.mark.parametrize("bad", ["gpu", "CUDA:0", "", 1, None])
def test_bad_device_names_the_argument(bad):
    m = _model()
    with pytest.raises(ValueError, match="device must be one of"):
        m.compile("adam", "mse", device=bad)


def test_device_defaults_to_the_cpu_and_is_not_saved(tmp_path):
    m = _model()
    m.compile("adam", "mse")
    assert m.device == "cpu"
    m.compile("adam", "mse", device="CPU")
    assert m.device == "cpu"
    path = tmp_path / "m.fastnn"
    m.save(path)
    m2 = fastnn.load_model(path)
    assert m2.device == "cpu"
    assert "device" not in (m2.get_compile_config() or {})


def test_show_config_reports_cuda():
    c = fastnn.show_config(mode="dict")
    if cuda.is_available():
        assert "device:" in c["cuda"]
    elif "built (fastnn._cuda" in c["cuda"]:
        assert cuda.why_unavailable() in c["cuda"]
    else:
        assert c["cuda"].startswith("not built")


def test_the_cpu_module_does_not_link_cuda():
    path = fastnn._core.__file__
    with open(path, "rb") as f:
        data = f.read()
    for lib in (b"libcudart.so", b"libcuda.so", b"libcublas"):
        assert lib not in data, f"fastnn._core references {lib!r}"


def test_cuda_module_links_the_runtime_statically():
    import importlib.util

    spec = importlib.util.find_spec("fastnn._cuda")
    if spec is None:
        pytest.skip("fastnn was built without CUDA")
    with open(spec.origin, "rb") as f:
        data = f.read()
    assert b"libcudart.so" not in data  # the static runtime: no dependency on a shared one
    assert b"libcuda.so.1" in data       # which it loads itself, lazily
