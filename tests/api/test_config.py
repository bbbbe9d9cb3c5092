"""fastnn.show_config(), the `fastnn` logger, and the warnings for FASTNN_* environment settings
the engine would otherwise ignore or fall back from quietly."""
import logging
import os
import subprocess
import sys

import pytest

import fastnn
from fastnn import _config


def _import_fastnn(**env_vars):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTNN_")}
    env.update(env_vars)
    code = "import fastnn; print('threads', fastnn.get_num_threads()); print('kernel', fastnn.kernel_name())"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def test_show_config_prints_what_it_runs_with(capsys):
    fastnn.show_config()
    out = capsys.readouterr().out
    for needle in (f"fastnn {fastnn.__version__}", "compiler:", "build type:", "cpu:", "cpu features:",
                   f"gemm kernel:   {fastnn.kernel_name()}", f"threads:       {fastnn.get_num_threads()}",
                   "cuda:"):
        assert needle in out, needle


def test_show_config_dict_matches_the_process():
    c = fastnn.show_config(mode="dict")
    assert c["kernel"] == fastnn.kernel_name() and c["threads"] == fastnn.get_num_threads()
    assert c["fastnn"] == fastnn.__version__
    assert c["compiler"] != "unknown" and c["build_type"] == "Release"   # the installed build says so
    import importlib.util

    if importlib.util.find_spec("fastnn._cuda") is None:
        assert c["cuda"].startswith("not built")
    with open("/proc/cpuinfo") if os.path.exists("/proc/cpuinfo") else open(os.devnull) as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    if "avx2" in flags:
        assert "avx2" in c["cpu_features"]
    if c["kernel"] == "avx512":
        assert "avx512f" in c["cpu_features"]
    with pytest.raises(ValueError, match="mode"):
        fastnn.show_config(mode="json")


def test_logger_is_fastnn_and_silent_by_default():
    assert fastnn.logger is logging.getLogger("fastnn")
    assert any(isinstance(h, logging.NullHandler) for h in fastnn.logger.handlers)


def test_import_prints_nothing_and_warns_nothing_when_settings_are_valid():
    r = _import_fastnn(FASTNN_NUM_THREADS="2", FASTNN_KERNEL="generic")
    assert r.stderr == ""
    assert "threads 2" in r.stdout and "kernel generic" in r.stdout


@pytest.mark.parametrize("var,value,accepted", [
    ("FASTNN_KERNEL", "bogus", "accepted: auto, avx512, avx2, generic"),
    ("FASTNN_NUM_THREADS", "abc", "accepted: a positive integer"),
    ("FASTNN_NUM_THREADS", "0", "accepted: a positive integer"),
    ("FASTNN_NUM_THREADS", "-3", "accepted: a positive integer"),
    ("FASTNN_NUM_THREADS", "2x", "accepted: a positive integer"),
])
def test_malformed_setting_warns_once_naming_variable_value_and_accepted(var, value, accepted):
    r = _import_fastnn(**{var: value})
    lines = [line for line in r.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(lines) == 1, r.stderr
    assert f"{var}={value!r}" in lines[0] and accepted in lines[0] and "fastnn uses" in lines[0]


def test_unknown_fastnn_variable_warns():
    r = _import_fastnn(FASTNN_NUM_THREAD="4")
    assert "FASTNN_NUM_THREAD is not a fastnn setting" in r.stderr and "FASTNN_NUM_THREADS" in r.stderr


class _FakeCore:
    def __init__(self, kernel="avx2", threads=4):
        self.kernel, self.threads = kernel, threads

    def kernel_name(self):
        return self.kernel

    def get_num_threads(self):
        return self.threads


def test_kernel_the_cpu_lacks_warns_with_the_one_used():
    with pytest.warns(RuntimeWarning, match="no avx512 kernels; fastnn uses 'avx2'"):
        msgs = _config.check_environment({"FASTNN_KERNEL": "avx512"}, _FakeCore("avx2"))
    assert len(msgs) == 1


def test_thread_count_the_pool_clamps_warns():
    with pytest.warns(RuntimeWarning, match="more than fastnn's pool allows; fastnn uses 1024"):
        _config.check_environment({"FASTNN_NUM_THREADS": "5000"}, _FakeCore(threads=1024))


def test_valid_and_empty_settings_are_quiet(recwarn):
    assert _config.check_environment({"FASTNN_KERNEL": "auto", "FASTNN_NUM_THREADS": " 4 "}, _FakeCore()) == []
    assert _config.check_environment({"FASTNN_KERNEL": "", "FASTNN_NUM_THREADS": ""}, _FakeCore()) == []
    assert _config.check_environment({"FASTNN_FUZZ_SEED": "1", "FASTNN_NATIVE": "ON"}, _FakeCore()) == []
    assert len(recwarn) == 0
