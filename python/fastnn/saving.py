"""The fastnn model file: data only, versioned, checksummed, written atomically.

Layout (little-endian):
    8 bytes   magic b"FASTNN\\x00M" (model) or b"FASTNN\\x00W" (weights only)
    4 bytes   format version (uint32)
    8 bytes   header length H (uint64)
    H bytes   header: UTF-8 JSON (architecture, compile configuration, training state, array table)
    ...       raw arrays, each at the offset the table gives (relative to the end of the header)
    4 bytes   CRC-32 of everything before it

Loading never executes code: no pickle, no eval, no import of names taken from the file. Layer,
loss and optimizer classes are looked up in fixed tables; every size is checked against the declared
shapes before any array is read.
"""
from __future__ import annotations

import io
import json
import math
import os
import stat
import struct
import tempfile
import zlib

import numpy as np

MAGIC_MODEL = b"FASTNN\x00M"
MAGIC_WEIGHTS = b"FASTNN\x00W"
FORMAT_VERSION = 1
_MAX_HEADER = 64 << 20
_MAX_NDIM = 8
_DTYPES = {"float32": np.float32, "float64": np.float64}


class FileFormatError(ValueError):
    """A model file is truncated, corrupted, of another version or otherwise not a fastnn file."""


# ---------------------------------------------------------------------------------------- writing
def _pack(magic: bytes, header: dict, arrays: dict) -> bytes:
    table, blobs, offset = [], [], 0
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        b = arr.tobytes()
        table.append({"name": name, "dtype": arr.dtype.name, "shape": list(arr.shape),
                      "offset": offset, "nbytes": len(b)})
        blobs.append(b)
        offset += len(b)
    header = dict(header)
    header["arrays"] = table
    hbytes = json.dumps(header, sort_keys=True).encode("utf-8")
    body = magic + struct.pack("<IQ", FORMAT_VERSION, len(hbytes)) + hbytes + b"".join(blobs)
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def _write_atomic(filepath, data: bytes, overwrite: bool):
    path = os.fspath(filepath)
    if not isinstance(path, str):
        raise TypeError(f"filepath: expected a str or os.PathLike, got {type(filepath).__name__}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"filepath: {path!r} exists and overwrite=False")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"filepath: folder {folder!r} does not exist")
    # The data goes to a temporary file in the same folder, is flushed to disk, and only then renamed
    # over the target: a crash, a kill or an exception at any point leaves either the old file or the
    # new one, never a mix. A kill can leave a ".fastnn-*.tmp" file behind; the target is intact.
    fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _set_file_mode(f.fileno(), path)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _set_file_mode(fd, path):
    """mkstemp creates files readable by their owner only; a saved model gets the mode of the file it
    replaces, or the mode a plain open() would give (0o666 less the umask)."""
    if not hasattr(os, "fchmod"):
        return
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        os.fchmod(fd, mode)
    except OSError:
        pass


def _umask():
    try:  # Linux: read it without changing it (os.umask would race with other threads)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_folder(folder):
    """Makes the rename itself durable (POSIX); best effort elsewhere."""
    if os.name != "posix":
        return
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _model_payload(model):
    model._require_built("save")
    net = model._net
    header = {
        "format": "fastnn", "kind": "model", "dtype": model.dtype,
        "config": model.get_config(),
        "compile": getattr(model, "_compile_config", None) if model.compiled else None,
        "state": {
            "iterations": int(net.iterations),
            "optimizer_scalar": float(net.optimizer_scalar),
            "rng": [int(s) for s in net.rng_state()],
            "trainable": [bool(l.trainable) for l in model.layers],
        },
    }
    arrays = {"params": net.arena(False)}
    if model.compiled:
        arrays["optimizer_state"] = net.optimizer_state()
    return _pack(MAGIC_MODEL, header, arrays)


def save_model(model, filepath, overwrite=True):
    _warn_keras_suffix(filepath)
    _write_atomic(filepath, _model_payload(model), overwrite)


def _warn_keras_suffix(filepath):
    """save() keeps fastnn's own format whatever the name (so load_model reads it back); a Keras
    name gets a warning that says so and where Keras's format is written."""
    path = os.fspath(filepath)
    if isinstance(path, str) and path.lower().endswith((".keras", ".h5")):
        import warnings

        warnings.warn(f"save: {os.path.basename(path)!r} is written in fastnn's format, which Keras cannot read "
                      "(fastnn.models.load_model reads it); fastnn.interop.save_keras(model, path) writes a "
                      "Keras .keras archive", UserWarning, stacklevel=4)


def _foreign_format_hint(data: bytes) -> str:
    """For a file that is not fastnn's: what it looks like, and what reads it ("" if unknown)."""
    if data[:4] == b"PK\x03\x04":
        name_len = int.from_bytes(data[26:28], "little")
        first = bytes(data[30:30 + name_len])
        if first in (b"metadata.json", b"config.json", b"model.weights.h5"):
            return "; this is a Keras .keras archive: read it with fastnn.interop.load_keras(path)"
        if first.endswith(b"data.pkl") or b"/" in first:
            return ("; this looks like a PyTorch file: load it with torch.load and convert the module with "
                    "fastnn.interop.from_torch(module)")
        return "; this is a zip archive"
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return ("; this is an HDF5 file (Keras weights, .weights.h5): build the model and read it with "
                "fastnn.interop.load_keras_weights(model, path)")
    return ""


def to_bytes(model) -> bytes:
    return _model_payload(model)


def save_weights(model, filepath, overwrite=True):
    model._require_built("save_weights")
    header = {"format": "fastnn", "kind": "weights", "dtype": model.dtype,
              "variables": [[v.name, list(v.shape)] for v in model.weights]}
    _write_atomic(filepath, _pack(MAGIC_WEIGHTS, header, {"params": model._net.arena(False)}), overwrite)


# ---------------------------------------------------------------------------------------- reading
def _unpack(data: bytes, magic: bytes):
    if len(data) < 24:
        raise FileFormatError("not a fastnn file: too short")
    if data[:8] != magic:
        other = MAGIC_WEIGHTS if magic == MAGIC_MODEL else MAGIC_MODEL
        if data[:8] == other:
            what = "a weights file" if other == MAGIC_WEIGHTS else "a whole-model file"
            raise FileFormatError(f"this is {what}; use {'load_weights' if other == MAGIC_WEIGHTS else 'load_model'}")
        raise FileFormatError("not a fastnn file (bad magic)" + _foreign_format_hint(data))
    version, hlen = struct.unpack("<IQ", data[8:20])
    # The version comes before the checksum: a file of another version may lay out its trailer
    # differently, and deserves a message that says so.
    if version != FORMAT_VERSION:
        raise FileFormatError(f"unsupported format version {version} (this fastnn reads version "
                              f"{FORMAT_VERSION}); the file is from another fastnn version or corrupted")
    (crc,) = struct.unpack("<I", data[-4:])
    if zlib.crc32(data[:-4]) & 0xFFFFFFFF != crc:
        raise FileFormatError("checksum mismatch: the file is truncated or corrupted")
    if hlen > _MAX_HEADER or 20 + hlen > len(data) - 4:
        raise FileFormatError(f"header length {hlen} out of range for a file of {len(data)} bytes")
    try:
        header = json.loads(bytes(data[20:20 + hlen]).decode("utf-8"))
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError, oversized ints
        raise FileFormatError(f"header is not valid JSON ({str(e)[:200]})") from None
    if not isinstance(header, dict) or header.get("format") != "fastnn":
        raise FileFormatError("header: not a fastnn header")
    payload = memoryview(data)[20 + hlen:-4]
    arrays = {}
    table = header.get("arrays")
    if not isinstance(table, list):
        raise FileFormatError("header: missing array table")
    for entry in table:
        if not isinstance(entry, dict):
            raise FileFormatError("header: bad array entry")
        name, dt, shape = entry.get("name"), entry.get("dtype"), entry.get("shape")
        off, nb = entry.get("offset"), entry.get("nbytes")
        if not isinstance(name, str) or name in arrays:
            raise FileFormatError(f"header: bad or repeated array name {str(name)[:80]!r}")
        if not isinstance(dt, str) or dt not in _DTYPES:
            raise FileFormatError(f"array {name!r}: unsupported dtype {str(dt)[:80]!r} (expected one of "
                                  f"{sorted(_DTYPES)})")
        if not isinstance(shape, list) or len(shape) > _MAX_NDIM or \
                not all(_is_int(s) and 0 <= s <= len(payload) for s in shape):
            raise FileFormatError(f"array {name!r}: bad shape {str(shape)[:80]}")
        if not all(_is_int(v) and v >= 0 for v in (off, nb)):
            raise FileFormatError(f"array {name!r}: bad offset or size")
        # Python ints: a hostile shape cannot overflow into a small size.
        expect = math.prod(shape) * np.dtype(_DTYPES[dt]).itemsize
        if nb != expect:
            raise FileFormatError(f"array {name!r}: size {nb} does not match shape {shape} of {dt}")
        if off + nb > len(payload):
            raise FileFormatError(f"array {name!r}: extends past the end of the file")
        arrays[name] = np.frombuffer(payload[off:off + nb], dtype=_DTYPES[dt]).reshape(shape).copy()
    return header, arrays


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _read(filepath) -> bytes:
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        return f.read()


def _model_from(header, arrays, compile=True):
    from .models import Sequential

    cfg = header.get("config")
    if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
        raise FileFormatError("header: bad model configuration")
    dtype = header.get("dtype")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise FileFormatError(f"header: bad dtype {str(dtype)[:80]!r}")
    params = arrays.get("params")
    if params is None:
        raise FileFormatError("params: the file holds no weights")
    state = header.get("state", {})
    if not isinstance(state, dict):
        raise FileFormatError("header: bad training state")
    _check_architecture(cfg, params.size)
    try:
        model = Sequential.from_config(cfg)
        model.build()
    except FileFormatError:
        raise
    except Exception as e:  # values of the wrong type or range reaching constructors or the engine
        raise FileFormatError(f"header: the model configuration is invalid ({type(e).__name__}: "
                              f"{str(e)[:200]})") from None
    if params.dtype != np.dtype(model.dtype) or params.size != model._net.arena().size:
        raise FileFormatError("params: the weights do not match the architecture")
    model._net.set_arena(params)
    trainable = state.get("trainable")
    if trainable is not None:
        if not isinstance(trainable, list) or len(trainable) != len(model.layers) or \
                not all(isinstance(t, bool) for t in trainable):
            raise FileFormatError("state: bad per-layer trainable flags")
        for l, t in zip(model.layers, trainable):
            l.trainable = t
    comp = header.get("compile")
    if compile and isinstance(comp, dict):
        _compile_from_config(model, comp)
        opt_state = arrays.get("optimizer_state")
        if opt_state is not None:
            if opt_state.size != model._net.optimizer_state().size:
                raise FileFormatError("optimizer_state: size does not match the optimizer")
            it = state.get("iterations", 0)
            scalar = state.get("optimizer_scalar", 1.0)
            if not _is_int(it) or not 0 <= it < 2**63 or isinstance(scalar, bool) or \
                    not isinstance(scalar, (int, float)) or not math.isfinite(scalar):
                raise FileFormatError("state: bad iterations or optimizer state")
            model._net.set_optimizer_state(opt_state, it, float(scalar))
    rng = state.get("rng")
    if rng is not None:
        if not isinstance(rng, list) or len(rng) != 4 or not all(_is_int(r) and 0 <= r < 2**64 for r in rng):
            raise FileFormatError("state: bad random generator state")
        model._net.set_rng_state(tuple(rng))
    return model


def _check_architecture(cfg, n_params):
    """Counts the weights the configuration declares before anything is built, so that a hostile
    configuration (a layer of 10**12 units) is refused before the engine reserves memory for it.
    The count after building is checked again (exactly) by the caller."""
    from . import layers as _layers

    shape, total = None, 0
    for i, d in enumerate(cfg["layers"]):
        if not isinstance(d, dict) or not isinstance(d.get("class_name"), str) or \
                not isinstance(d.get("config", {}), dict):
            raise FileFormatError(f"header: layer {i} is not a {{class_name, config}} entry")
        try:
            layer = _layers.deserialize(d)
            if isinstance(layer, _layers.InputLayer):
                shape = tuple(layer.shape)
                continue
            if shape is None:
                shape = layer._input_shape_arg
            if shape is None:
                raise ValueError("the input shape is not stored")
            layer.input_shape = tuple(shape)
            out = tuple(layer.compute_output_shape(tuple(shape)))
            total += sum(math.prod(s) for s in layer._param_shapes())
        except Exception as e:
            raise FileFormatError(f"header: layer {i} ({str(d.get('class_name'))[:80]}) is invalid "
                                  f"({type(e).__name__}: {str(e)[:200]})") from None
        if total > n_params:
            raise FileFormatError(f"header: the architecture declares more weights than the file holds "
                                  f"({n_params})")
        shape = out


def _metrics_from_config(entries):
    """Metric entries of a compile configuration: names, or {"class_name", "config"} dicts resolved
    through fastnn.metrics' fixed table."""
    from . import metrics

    out = []
    for m in entries if isinstance(entries, list) else []:
        if isinstance(m, str):
            out.append(m)
        elif isinstance(m, dict) and isinstance(m.get("class_name"), str) and isinstance(m.get("config", {}), dict):
            out.append(metrics.get({"class_name": m["class_name"], "config": m.get("config", {})}))
    return out


def _compile_from_config(model, comp):
    from . import losses, optimizers

    try:
        model.compile(optimizer=optimizers.get(comp["optimizer"]), loss=losses.get(comp["loss"]),
                      metrics=_metrics_from_config(comp.get("metrics", [])),
                      weighted_metrics=_metrics_from_config(comp.get("weighted_metrics", [])),
                      loss_weights=comp.get("loss_weights"))
    except Exception as e:  # values of the wrong type or range reaching constructors
        raise FileFormatError(f"header: the compile configuration is invalid ({type(e).__name__}: "
                              f"{str(e)[:200]})") from None


def load_model(filepath, compile=True):
    header, arrays = _unpack(_read(filepath), MAGIC_MODEL)
    return _model_from(header, arrays, compile)


def from_bytes(data: bytes):
    header, arrays = _unpack(data, MAGIC_MODEL)
    return _model_from(header, arrays, True)


def load_weights(model, filepath):
    data = _read(filepath)
    if data[:8] == MAGIC_MODEL:
        header, arrays = _unpack(data, MAGIC_MODEL)
    else:
        header, arrays = _unpack(data, MAGIC_WEIGHTS)
    model._require_built("load_weights")
    params = arrays.get("params")
    if params is None or params.size != model._net.arena().size:
        raise ValueError(f"load_weights: the file holds {0 if params is None else params.size} weights, "
                         f"the model has {model._net.arena().size}")
    model._net.set_arena(np.ascontiguousarray(params, dtype=model.dtype))
