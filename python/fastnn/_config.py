"""What fastnn runs with: show_config() (version, build, CPU, kernel path, threads, CUDA), the
`fastnn` logger, and the check of FASTNN_* environment settings at import.

The engine reads FASTNN_KERNEL and FASTNN_NUM_THREADS itself and falls back quietly on a value it
cannot use (an unknown kernel name, "abc" threads); the check here makes each such fallback a
warning that names the variable, the value, what is accepted and what fastnn uses instead.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import platform
import re
import sys
import warnings

logger = logging.getLogger("fastnn")
logger.addHandler(logging.NullHandler())

KERNELS = ("avx512", "avx2", "generic", "neon")

# FASTNN_* variables fastnn knows: run-time settings, the CMake options (read at build time only),
# and the test suite's and examples' knobs.
RUNTIME_SETTINGS = {
    "FASTNN_KERNEL": "the GEMM path: auto or " + ", ".join(KERNELS),
    "FASTNN_NUM_THREADS": "a positive integer (the size of fastnn's thread pool)",
    "FASTNN_CUDA_DATA_BUDGET": "device='cuda': the training set's device memory budget, a fraction of free "
                               "memory (default 0.5) or a size such as 512M; above it fit() streams the data",
    "FASTNN_CUDA_FUSED": "device='cuda': 0 turns off the fused small-network kernel (widths <= 128)",
}
OTHER_SETTINGS = {"FASTNN_NATIVE", "FASTNN_CUDA", "FASTNN_CUDA_ARCHITECTURES", "FASTNN_SANITIZE", "FASTNN_PYTHON", "FASTNN_BENCHMARKS",
                  "FASTNN_FUZZ_EXAMPLES", "FASTNN_FUZZ_SEED", "FASTNN_EXAMPLE_EPOCHS"}

# CPU flags that decide fastnn's kernel paths (x86-64 /proc/cpuinfo "flags", ARM "Features").
_CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8",
              "asimd", "sve", "sve2", "bf16", "i8mm")


def _kernel_names(core) -> tuple:
    names = getattr(core, "kernel_names", None)
    return tuple(names()) if callable(names) else KERNELS


def check_environment(environ=None, core=None) -> list:
    """Warns (once per call, through `warnings`) about FASTNN_* settings that are unknown, malformed
    or cannot be honoured on this machine; returns the messages."""
    env = os.environ if environ is None else environ
    if core is None:
        from . import _core as core
    messages = []

    kernel = env.get("FASTNN_KERNEL", "")
    if kernel not in ("", "auto"):
        chosen = core.kernel_name()
        names = _kernel_names(core)
        if kernel not in names:
            messages.append(f"FASTNN_KERNEL={kernel!r} is not a kernel name; accepted: auto, "
                            f"{', '.join(names)}. fastnn uses the best path for this CPU ({chosen!r}).")
        elif chosen != kernel:
            messages.append(f"FASTNN_KERNEL={kernel!r}: this CPU or build has no {kernel} kernels; fastnn "
                            f"uses {chosen!r}.")

    threads = env.get("FASTNN_NUM_THREADS", "")
    if threads.strip():
        used = core.get_num_threads()
        m = re.fullmatch(r"\s*\+?(\d+)\s*", threads)
        if m is None or int(m.group(1)) < 1:
            messages.append(f"FASTNN_NUM_THREADS={threads!r} is not a positive integer; accepted: a positive "
                            f"integer such as 4. fastnn uses {used} threads.")
        elif int(m.group(1)) != used:
            messages.append(f"FASTNN_NUM_THREADS={threads!r} is more than fastnn's pool allows; fastnn uses "
                            f"{used} threads.")

    for name in sorted(env):
        if name.startswith("FASTNN_") and name not in RUNTIME_SETTINGS and name not in OTHER_SETTINGS:
            known = ", ".join(sorted(RUNTIME_SETTINGS))
            messages.append(f"{name} is not a fastnn setting (fastnn reads {known}); it is ignored.")

    for msg in messages:
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        logger.warning(msg)
    return messages


def _cpu_model_and_flags():
    model, flags = platform.processor() or platform.machine() or "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "hardware", "cpu model") and value.strip():
                    model = value.strip()
                elif key in ("flags", "features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, [f for f in _CPU_FLAGS if f in flags]


def _build_info():
    try:
        return importlib.import_module("fastnn._build_info")
    except ImportError:
        return None


def _cuda_status(info) -> str:
    requested = getattr(info, "CUDA_REQUESTED", "") if info else ""
    if importlib.util.find_spec("fastnn._cuda") is None:
        why = getattr(info, "CUDA_REASON", "") if info else ""
        return "not built" + (f" (FASTNN_CUDA={requested} at build time" if requested else "") + \
            (f": {why})" if why and requested else (")" if requested else ""))
    from . import cuda

    archs = getattr(info, "CUDA_ARCHITECTURES", "") if info else ""
    built = "built (fastnn._cuda" + (f", architectures {archs}" if archs else "") + ")"
    st = cuda.status()
    if not st.get("available"):
        return f"{built}; unavailable: {cuda.why_unavailable()}"
    fused = "off (FASTNN_CUDA_FUSED=0)" if os.environ.get("FASTNN_CUDA_FUSED") == "0" else "on"
    budget = os.environ.get("FASTNN_CUDA_DATA_BUDGET") or "0.5 of free memory"
    return f"{built}; device: {st['devices'][0]}" + (f" (+{len(st['devices']) - 1} more)" if len(st["devices"]) > 1 else "") + \
        f"; fused small-network kernel {fused}; data budget {budget} (streamed above it)"


def config_dict() -> dict:
    """What show_config() prints, as a dict."""
    import numpy

    from . import __version__, _core

    info = _build_info()
    model, flags = _cpu_model_and_flags()
    physical = getattr(_core, "physical_cores", None)
    return {
        "fastnn": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "compiler": getattr(info, "COMPILER", "unknown").strip() if info else "unknown",
        "build_type": getattr(info, "BUILD_TYPE", "unknown") if info else "unknown",
        "cxx_flags": getattr(info, "CXX_FLAGS", "") if info else "",
        "native_tuning": getattr(info, "NATIVE", "unknown") if info else "unknown",
        "cpu": model,
        "cpu_features": flags,
        "kernel": _core.kernel_name(),
        "kernel_setting": os.environ.get("FASTNN_KERNEL") or "auto",
        "threads": int(_core.get_num_threads()),
        "physical_cores": int(physical()) if callable(physical) else None,
        "threads_setting": os.environ.get("FASTNN_NUM_THREADS") or "unset",
        "cuda": _cuda_status(info),
    }


def show_config(mode="stdout"):
    """Reports fastnn's configuration: how it was built and what it runs on.

    The report has the version, the compiler and build type, the CPU model and features, the GEMM
    kernel chosen, the thread count and the CUDA status.

    Parameters
    ----------
    mode : {"stdout", "dict"}, default "stdout"
        "stdout" prints the report; "dict" returns it instead.

    Returns
    -------
    dict or None
        The report with mode="dict", else None.
    """
    if mode not in ("stdout", "dict"):
        raise ValueError(f"show_config: mode must be 'stdout' or 'dict', got {mode!r}")
    c = config_dict()
    if mode == "dict":
        return c
    flags = f" ({c['cxx_flags']})" if c["cxx_flags"] else ""
    cores = f", physical cores {c['physical_cores']}" if c["physical_cores"] is not None else ""
    lines = [
        f"fastnn {c['fastnn']}",
        f"  python:        {c['python']}, numpy {c['numpy']}",
        f"  platform:      {c['platform']}",
        f"  compiler:      {c['compiler']}",
        f"  build type:    {c['build_type']}{flags}, native tuning {c['native_tuning']}",
        f"  cpu:           {c['cpu']}",
        f"  cpu features:  {' '.join(c['cpu_features']) or 'none detected'}",
        f"  gemm kernel:   {c['kernel']} (FASTNN_KERNEL {c['kernel_setting']})",
        f"  threads:       {c['threads']} (FASTNN_NUM_THREADS {c['threads_setting']}{cores})",
        f"  cuda:          {c['cuda']}",
    ]
    print("\n".join(lines), file=sys.stdout)
