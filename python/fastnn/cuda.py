"""The CUDA backend from Python: whether it can run here and why not, and the device it runs on.

The backend is its own extension module, fastnn._cuda, built where nvcc and cuBLASLt were found
(FASTNN_CUDA=AUTO|ON|OFF at build time). It imports without a GPU or a driver; `is_available()`
asks it whether a device can be used, and `why_unavailable()` says why not ("fastnn was built
without CUDA", "no CUDA driver (libcuda.so.1 not found)", "no device ..."). Models choose the
device in `compile(device="cuda" | "cpu" | "auto")`.
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import threading

__all__ = ["is_available", "why_unavailable", "device_count", "device_name", "status", "resolve_device"]

DEVICES = ("cpu", "cuda", "auto")

_lock = threading.Lock()
_cached = None


def _preload_cublas():
    """Loads libcublasLt from the nvidia-cublas wheel when it is installed (the module's RUNPATH
    covers the usual layout; this covers the others). A missing wheel is not an error here: the
    import of fastnn._cuda then names the library it lacks."""
    for pkg in ("nvidia.cu13", "nvidia.cublas"):
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for base in spec.submodule_search_locations:
            lib = os.path.join(base, "lib")
            if not os.path.isdir(lib):
                continue
            for name in sorted(os.listdir(lib)):
                if name.startswith("libcublasLt.so"):
                    try:
                        ctypes.CDLL(os.path.join(lib, name), mode=ctypes.RTLD_GLOBAL)
                        return
                    except OSError:
                        pass


def _probe():
    """(module or None, status dict). Never raises."""
    if importlib.util.find_spec("fastnn._cuda") is None:
        return None, {"available": False, "reason": "fastnn was built without CUDA "
                      "(reinstall with nvcc and cuBLASLt present, or FASTNN_CUDA=ON to require it)",
                      "devices": []}
    _preload_cublas()
    try:
        mod = importlib.import_module("fastnn._cuda")
    except ImportError as e:
        return None, {"available": False, "reason": f"fastnn._cuda cannot be loaded: {e}", "devices": []}
    try:
        st = dict(mod.status())
    except Exception as e:  # the runtime refused to start
        return None, {"available": False, "reason": f"the CUDA runtime failed: {e}", "devices": []}
    if not st.get("reason") and not st.get("devices"):
        st["available"], st["reason"] = False, "no device"
    return mod, st


def _state():
    global _cached
    with _lock:
        if _cached is None:
            _cached = _probe()
        return _cached


def status() -> dict:
    """What the CUDA backend sees: available, reason, devices, runtime/driver/cuBLASLt versions.

    The backend is probed once per process (the first call to any function here); nothing here
    raises, whatever the machine lacks.

    Returns
    -------
    dict
        A new dict with at least "available" (bool), "reason" (why not, "" when available) and
        "devices" (device names); where the backend loaded, also the versions it reports.
    """
    return dict(_state()[1])


def is_available() -> bool:
    """Whether device="cuda" can run in this process.

    Returns
    -------
    bool
        True when fastnn was built with CUDA, the driver and cuBLASLt load, and a GPU is visible.
    """
    return bool(_state()[1].get("available"))


def why_unavailable() -> str:
    """Why device="cuda" cannot run here.

    Returns
    -------
    str
        The reason ("fastnn was built without CUDA ...", "no CUDA driver ...", "no device", ...), or
        "" when CUDA is available.
    """
    st = _state()[1]
    return "" if st.get("available") else str(st.get("reason") or "unknown")


def device_count() -> int:
    """The number of CUDA devices fastnn can use.

    Returns
    -------
    int
        0 when CUDA is not available (see why_unavailable()).
    """
    return len(_state()[1].get("devices") or []) if is_available() else 0


def device_name(index: int = 0) -> str:
    """The name of a CUDA device, as the driver reports it.

    Parameters
    ----------
    index : int, default 0
        The device's index, in [0, device_count()); an index out of range, or any index when CUDA
        is not available, raises ValueError saying why.

    Returns
    -------
    str
        The device's name (for example "NVIDIA H200").
    """
    devices = _state()[1].get("devices") or []
    if not is_available() or not 0 <= int(index) < len(devices):
        raise ValueError(f"device_name: no CUDA device {index!r} ({why_unavailable() or 'out of range'})")
    return str(devices[int(index)])


def module():
    """fastnn._cuda, or a RuntimeError saying why the backend cannot run."""
    mod, st = _state()
    if mod is None or not st.get("available"):
        raise RuntimeError(f"device='cuda' is not available: {why_unavailable()}")
    return mod


def resolve_device(device, what="compile") -> str:
    """The device a compile(device=...) argument selects.

    Parameters
    ----------
    device : {"cpu", "cuda", "auto"}
        The requested device, case-insensitive; another value raises ValueError. "cuda" where CUDA
        is not available raises RuntimeError saying why.
    what : str, default "compile"
        The name of the caller, used in the error messages.

    Returns
    -------
    str
        "cpu" or "cuda"; "auto" gives "cuda" where it is available and "cpu" otherwise.
    """
    if not isinstance(device, str) or device.lower() not in DEVICES:
        raise ValueError(f"{what}: device must be one of {DEVICES}, got {device!r}")
    d = device.lower()
    if d == "auto":
        return "cuda" if is_available() else "cpu"
    if d == "cuda" and not is_available():
        raise RuntimeError(f"{what}(device='cuda'): CUDA is not available: {why_unavailable()}")
    return d
