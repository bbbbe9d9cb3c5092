"""The fastnn model file: data only, versioned, checksummed, written atomically.

Layout (little-endian):
    8 bytes   magic b"FASTNN\\x00M" (model) or b"FASTNN\\x00W" (weights only)
    4 bytes   format version (uint32)
    8 bytes   header length H (uint64)
    H bytes   header: UTF-8 JSON (architecture, compile configuration, training state, array table)
    ...       raw arrays, each at the offset the table gives (relative to the end of the header)
    4 bytes   CRC-32 of everything before it

Version 2 (written today) describes the model by its ModelSpec (fastnn.spec) and stores one named
array per variable and per optimizer slot, in Keras layout, independent of how the engine lays out
its memory:
    header "spec"      ModelSpec.to_dict(): layers, their configurations, variables and shapes
    header "config"    the model's own fields (name, dtype, trainable, seed)
    header "compile"   the compile configuration (or null); "state": step count, the optimizer's
                       scalar, the generator state, per-layer trainable flags; "optimizer_slots":
                       the slot names of the compiled optimizer, in the engine's order
    arrays             "<layer>/<variable>" (e.g. "dense/kernel") for each variable, and
                       "optimizer/<layer>/<variable>/<slot>" (e.g. "optimizer/dense/kernel/m")
Every array's shape and dtype is checked against the spec before anything is built, and every
value must be finite (as set_weights requires). Version-1 files (one "params" array holding the
engine's parameter arena, the architecture as a Keras config) still load.

Loading never executes code: no pickle, no eval, no import of names taken from the file. Layer,
loss and optimizer classes are looked up in fixed tables; every size is checked against the declared
shapes before any array is read.
"""
from __future__ import annotations

import json
import math
import os
import stat
import struct
import tempfile
import warnings
import zlib
from typing import TypeGuard

import numpy as np

from . import _engine, _limits
from . import spec as _spec

MAGIC_MODEL = b"FASTNN\x00M"
MAGIC_WEIGHTS = b"FASTNN\x00W"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
_MAX_HEADER = 64 << 20
_MAX_NDIM = 8
_DTYPES = {"float32": np.float32, "float64": np.float64}
# Bytes of arrays a file may declare: every variable of the largest model (fastnn._limits.MAX_PARAMS)
# in float64, with up to three optimizer slots.
_MAX_PAYLOAD = 4 * 8 * _limits.MAX_PARAMS
# Metrics a file's compile configuration may name (each one's state is bounded by fastnn.metrics).
_MAX_FILE_METRICS = 64


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
    if os.path.isdir(path):
        raise IsADirectoryError(f"filepath: expected the path of a file, got {path!r}, which is a directory")
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
        try:
            os.replace(tmp, path)
        except IsADirectoryError:  # it became one meanwhile: name the target, not the temporary file
            raise IsADirectoryError(f"filepath: expected the path of a file, got {path!r}, which is a "
                                    "directory") from None
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


# ---------------------------------------------------------------------------------------- the builder
_builder = None


def register_builder(builder):
    """fastnn.models hands in what loading needs from it (from_config for version-1 files, from_spec
    for version 2), so that this module never imports models."""
    global _builder
    _builder = builder


def _the_builder(builder):
    b = builder or _builder
    if b is None:
        raise RuntimeError("saving: no model builder registered; import fastnn first")
    return b


# ---------------------------------------------------------------------------------------- writing v2
def _model_fields(model) -> dict:
    cfg = model.get_config()
    return {k: cfg[k] for k in ("name", "dtype", "trainable", "seed") if k in cfg}


def _variable_arrays(spec, weights) -> dict:
    return dict(zip(spec.variable_names(), (np.ascontiguousarray(w) for w in weights)))


def _model_payload(model):
    with model._engine.steady():  # the spec and the arrays of one structure
        return _model_payload_steady(model)


def _model_payload_steady(model):
    model._require_built("save")
    spec = model.spec()
    snap = model._engine.snapshot(len(spec.variables()), with_optimizer=model.compiled)
    weights = [w.reshape(v.shape) for w, (_i, v) in zip(snap["weights"], spec.variables())]
    arrays = _variable_arrays(spec, weights)
    slots = []
    if model.compiled:
        slots = _engine.optimizer_slot_names(model.optimizer.native_config())
        per = _engine.split_optimizer_state(snap["optimizer_state"], [w.size for w in weights], len(slots))
        for name, (_i, v), var_slots in zip(spec.variable_names(), spec.variables(), per):
            for slot, a in zip(slots, var_slots):
                arrays[f"optimizer/{name}/{slot}"] = a.reshape(v.shape)
    header = {
        "format": "fastnn", "kind": "model", "dtype": model.dtype,
        "spec": spec.to_dict(),
        "config": _model_fields(model),
        "compile": getattr(model, "_compile_config", None) if model.compiled else None,
        "optimizer_slots": slots,
        "state": {
            "iterations": snap["iterations"],
            "optimizer_scalar": snap["optimizer_scalar"],
            "rng": snap["rng"],
            "trainable": [bool(l.trainable) for l in model.layers],
        },
    }
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
    with model._engine.steady():
        model._require_built("save_weights")
        spec = model.spec()
        header = {"format": "fastnn", "kind": "weights", "dtype": model.dtype, "spec": spec.to_dict()}
        arrays = _variable_arrays(spec, model.get_weights())
    _write_atomic(filepath, _pack(MAGIC_WEIGHTS, header, arrays), overwrite)


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
    if version not in _READABLE_VERSIONS:
        raise FileFormatError(f"unsupported format version {version} (this fastnn reads versions "
                              f"{', '.join(map(str, _READABLE_VERSIONS))}); the file is from another fastnn "
                              "version or corrupted")
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
    _check_header_values(header)
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
    header["_version"] = version
    return header, arrays


def _check_header_values(header):
    """Every value of the header within fastnn._limits, in one pass over it (time and memory in
    proportion to the header, whose length is checked first): nesting depth, string lengths and the
    length of every list (array tables and layer lists hold at most a few entries per layer)."""
    max_list = 16 * _limits.MAX_LAYERS
    stack = [(header, 1, "header")]
    while stack:
        node, depth, where = stack.pop()
        if depth > _limits.MAX_DEPTH:
            raise FileFormatError(f"{where}: expected values nested at most {_limits.MAX_DEPTH} deep, got deeper")
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            if len(node) > max_list:
                raise FileFormatError(f"{where}: expected a list of at most {max_list} entries, got {len(node)}")
            items = enumerate(node)
        else:
            continue
        for k, v in items:
            if isinstance(k, str) and len(k) > _limits.MAX_STRING:
                raise FileFormatError(f"{where}: expected keys of at most {_limits.MAX_STRING} characters, got one "
                                      f"of {len(k)}")
            if isinstance(v, str):
                if len(v) > _limits.MAX_STRING:
                    raise FileFormatError(f"{where}[{str(k)[:40]!r}]: expected a string of at most "
                                          f"{_limits.MAX_STRING} characters, got {len(v)}")
            elif isinstance(v, (dict, list)):
                stack.append((v, depth + 1, f"{where}[{str(k)[:40]!r}]" if depth < 6 else where))


def _is_int(v) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)

def _read(filepath) -> bytes:
    """The file's bytes, read in steps: the fixed prefix and the header first, then exactly the size
    the header's array table declares (plus the checksum), so that a file that is not a fastnn file,
    or an endless one (/dev/zero), is refused without reading it all."""
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        prefix = f.read(20)
        if len(prefix) < 20 or prefix[:8] not in (MAGIC_MODEL, MAGIC_WEIGHTS):
            return prefix + f.read(4096)  # _unpack names the problem (and the format it looks like)
        _version, hlen = struct.unpack("<IQ", prefix[8:20])
        if hlen > _MAX_HEADER:
            return prefix + f.read(4)
        hbytes = f.read(hlen)
        end = 0
        try:
            table = json.loads(hbytes.decode("utf-8")).get("arrays")
            for e in table:
                if _is_int(e.get("offset")) and _is_int(e.get("nbytes")):
                    end = max(end, e["offset"] + e["nbytes"])
        except Exception:  # noqa: BLE001 - a bad header: _unpack reports it from what was read
            return prefix + hbytes + f.read(4)
        if end > _MAX_PAYLOAD:
            raise FileFormatError(f"header: expected arrays of at most {_MAX_PAYLOAD} bytes in all, got a table "
                                  f"that declares {end}")
        rest = _read_up_to(f, end + 4)
        if len(rest) == end + 4 and f.read(1):
            return prefix + hbytes + rest + b"\x00"  # trailing data: the checksum cannot match
        return prefix + hbytes + rest


def _read_up_to(f, n, step=16 << 20):
    """At most n bytes of f, in steps: memory grows with the bytes really there, not with what a
    (not yet verified) header declares."""
    parts, got = [], 0
    while got < n:
        b = f.read(min(step, n - got))
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


# ---------------------------------------------------------------------------------------- reading v2
def _finite(name, a):
    if a.size and not (np.isfinite(np.min(a)) and np.isfinite(np.max(a))):
        raise FileFormatError(f"array {name!r}: contains NaN or infinite values (a model file's weights must be "
                              "finite, as set_weights requires)")


def _spec_of(header):
    raw = header.get("spec")
    if not isinstance(raw, dict):
        raise FileFormatError("header: missing or bad model description (spec)")
    try:
        spec = _spec.ModelSpec.from_dict(raw)
    except ValueError as e:
        raise FileFormatError(f"header: {str(e)[:300]}") from None
    if header.get("dtype") != spec.dtype:
        raise FileFormatError(f"header: bad dtype {str(header.get('dtype'))[:80]!r} (the spec says {spec.dtype})")
    return spec


def _variables_of(spec, arrays, what):
    """The arrays of the spec's variables, each checked for presence, shape, dtype and finiteness."""
    out = []
    for name, (_i, v) in zip(spec.variable_names(), spec.variables()):
        a = arrays.get(name)
        if a is None:
            raise FileFormatError(f"{what}: the file holds no array for variable {name!r}")
        if tuple(a.shape) != v.shape or a.dtype != np.dtype(spec.dtype):
            raise FileFormatError(f"array {name!r}: expected shape {v.shape} of {spec.dtype}, got "
                                  f"{tuple(a.shape)} of {a.dtype.name}")
        _finite(name, a)
        out.append(a)
    return out


def _check_state(state, model):
    if not isinstance(state, dict):
        raise FileFormatError("header: bad training state")
    trainable = state.get("trainable")
    if trainable is not None:
        if not isinstance(trainable, list) or len(trainable) != len(model.layers) or \
                not all(isinstance(t, bool) for t in trainable):
            raise FileFormatError("state: bad per-layer trainable flags")
    it = state.get("iterations", 0)
    scalar = state.get("optimizer_scalar", 1.0)
    if not _is_int(it) or not 0 <= it < 2**63 or isinstance(scalar, bool) or \
            not isinstance(scalar, (int, float)) or not math.isfinite(scalar):
        raise FileFormatError("state: bad iterations or optimizer state")
    rng = state.get("rng")
    if rng is not None and (not isinstance(rng, list) or len(rng) != 4 or
                            not all(_is_int(r) and 0 <= r < 2**64 for r in rng)):
        raise FileFormatError("state: bad random generator state")
    return trainable, it, float(scalar), rng


def _model_from_v2(header, arrays, compile, builder):
    spec = _spec_of(header)
    weights = _variables_of(spec, arrays, "weights")
    fields = header.get("config", {})
    if not isinstance(fields, dict):
        raise FileFormatError("header: bad model configuration")
    state = header.get("state", {})
    model_trainable = fields.get("trainable", True)
    if not isinstance(model_trainable, bool):
        raise FileFormatError("config: bad trainable flag")
    seed = fields.get("seed")
    if seed is not None and not (_is_int(seed) and 0 <= seed < 2**64):
        raise FileFormatError("config: bad seed")
    try:
        model = builder.from_spec(spec, seed=seed)
    except Exception as e:  # values of the wrong type or range reaching constructors or the engine
        raise FileFormatError(f"header: the model configuration is invalid ({type(e).__name__}: "
                              f"{str(e)[:200]})") from None
    trainable, it, scalar, rng = _check_state(state, model)
    model.set_weights(weights)
    if trainable is not None:
        for l, t in zip(model.layers, trainable):
            l.trainable = t
    model.trainable = model_trainable
    comp = header.get("compile")
    if compile and isinstance(comp, dict):
        compile_from_config(model, comp)
        slots = _engine.optimizer_slot_names(model.optimizer.native_config())
        stored = header.get("optimizer_slots")
        per_var = []
        if stored is not None:
            if stored != slots:
                raise FileFormatError(f"optimizer_slots: expected {slots} for the compiled optimizer, got "
                                      f"{str(stored)[:200]}")
            for name, (_i, v) in zip(spec.variable_names(), spec.variables()):
                got = []
                for slot in slots:
                    key = f"optimizer/{name}/{slot}"
                    a = arrays.get(key)
                    if a is None or tuple(a.shape) != v.shape or a.dtype != np.dtype(spec.dtype):
                        raise FileFormatError(f"array {key!r}: missing, or not of shape {v.shape} of {spec.dtype}")
                    _finite(key, a)
                    got.append(a)
                per_var.append(got)
            flat = _engine.join_optimizer_state(per_var, len(slots), spec.dtype)
            model._engine.set_optimizer_state(flat, it, scalar)
    if rng is not None:
        model._engine.set_rng_state(rng)
    return model


# ---------------------------------------------------------------------------------------- reading v1
def _model_from_v1(header, arrays, compile, builder):
    cfg = header.get("config")
    if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
        raise FileFormatError("header: bad model configuration")
    dtype = header.get("dtype")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise FileFormatError(f"header: bad dtype {str(dtype)[:80]!r}")
    if len(cfg["layers"]) > _limits.MAX_LAYERS + 1:
        raise FileFormatError(f"header: expected at most {_limits.MAX_LAYERS} layers, got {len(cfg['layers'])}")
    params = arrays.get("params")
    if params is None:
        raise FileFormatError("params: the file holds no weights")
    state = header.get("state", {})
    if not isinstance(state, dict):
        raise FileFormatError("header: bad training state")
    _check_architecture(cfg, params.size)
    try:
        model = builder.from_config(cfg)
        model.build()
    except FileFormatError:
        raise
    except Exception as e:  # values of the wrong type or range reaching constructors or the engine
        raise FileFormatError(f"header: the model configuration is invalid ({type(e).__name__}: "
                              f"{str(e)[:200]})") from None
    if params.dtype != np.dtype(model.dtype) or params.size != model._engine.arena_size():
        raise FileFormatError("params: the weights do not match the architecture")
    _finite("params", params)
    model._engine.set_arena(params)
    trainable, it, scalar, rng = _check_state(state, model)
    if trainable is not None:
        for l, t in zip(model.layers, trainable):
            l.trainable = t
    comp = header.get("compile")
    if compile and isinstance(comp, dict):
        compile_from_config(model, comp)
        opt_state = arrays.get("optimizer_state")
        if opt_state is not None:
            if opt_state.size != model._engine.optimizer_state().size:
                raise FileFormatError("optimizer_state: size does not match the optimizer")
            _finite("optimizer_state", opt_state)
            model._engine.set_optimizer_state(opt_state, it, scalar)
    if rng is not None:
        model._engine.set_rng_state(rng)
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
                shape = tuple(layer.per_sample_shape)
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


# ---------------------------------------------------------------------------------------- compile
def _metrics_from_config(entries):
    """Metric entries of a compile configuration: names, or {"class_name", "config"} dicts resolved
    through fastnn.metrics' fixed table."""
    from . import metrics

    out = []
    if isinstance(entries, list) and len(entries) > _MAX_FILE_METRICS:
        raise FileFormatError(f"compile: expected at most {_MAX_FILE_METRICS} metrics, got {len(entries)}")
    for m in entries if isinstance(entries, list) else []:
        if isinstance(m, str):
            out.append(m)
        elif isinstance(m, dict) and isinstance(m.get("class_name"), str) and isinstance(m.get("config", {}), dict):
            out.append(metrics.get({"class_name": m["class_name"], "config": m.get("config", {})}))
    return out


def compile_from_config(model, comp):
    from . import losses, mixed_precision, optimizers

    policy = comp.get("dtype_policy")
    if policy == "mixed_bfloat16" and not mixed_precision.bfloat16_supported():
        warnings.warn("the model was compiled with dtype_policy='mixed_bfloat16', which this CPU cannot "
                      "run; it is compiled in float32", RuntimeWarning, stacklevel=3)
        policy = "float32"
    try:
        model.compile(optimizer=optimizers.get(comp["optimizer"]), loss=losses.get(comp["loss"]),
                      dtype_policy=policy,
                      metrics=_metrics_from_config(comp.get("metrics", [])),
                      weighted_metrics=_metrics_from_config(comp.get("weighted_metrics", [])),
                      loss_weights=comp.get("loss_weights"))
    except Exception as e:  # values of the wrong type or range reaching constructors
        raise FileFormatError(f"header: the compile configuration is invalid ({type(e).__name__}: "
                              f"{str(e)[:200]})") from None


_compile_from_config = compile_from_config


def _model_from(header, arrays, compile, builder):
    builder = _the_builder(builder)
    if header.get("_version") == 1:
        return _model_from_v1(header, arrays, compile, builder)
    return _model_from_v2(header, arrays, compile, builder)


def load_model(filepath, compile=True, builder=None):
    header, arrays = _unpack(_read(filepath), MAGIC_MODEL)
    return _model_from(header, arrays, compile, builder)


def from_bytes(data: bytes, builder=None):
    header, arrays = _unpack(data, MAGIC_MODEL)
    return _model_from(header, arrays, True, builder)


# ---------------------------------------------------------------------------------------- load_weights
def _same_architecture(file_spec, spec):
    """None when file_spec's weights fit spec (same input, same layer kinds and variable shapes in
    order; layer names may differ), else what differs."""
    if file_spec.input_shape != spec.input_shape:
        return f"the file's model takes inputs of shape {file_spec.input_shape}, this one {spec.input_shape}"
    if len(file_spec.layers) != len(spec.layers):
        return f"the file's model has {len(file_spec.layers)} layers, this one {len(spec.layers)}"
    for i, (a, b) in enumerate(zip(file_spec.layers, spec.layers)):
        va, vb = [(v.name, v.shape) for v in a.variables], [(v.name, v.shape) for v in b.variables]
        if a.kind != b.kind or va != vb:
            return (f"layer {i}: the file has {a.kind} {a.name!r} with variables {va}, this model {b.kind} "
                    f"{b.name!r} with {vb}")
    return None


def load_weights(model, filepath):
    data = _read(filepath)
    if data[:8] == MAGIC_MODEL:
        header, arrays = _unpack(data, MAGIC_MODEL)
    else:
        header, arrays = _unpack(data, MAGIC_WEIGHTS)
    model._require_built("load_weights")
    spec = model.spec()
    if header.get("_version") == 1:
        params = arrays.get("params")
        n = model._engine.arena_size()
        if params is None or params.size != n:
            raise ValueError(f"load_weights: the file holds {0 if params is None else params.size} weights, "
                             f"the model has {n}")
        declared = header.get("variables")
        if header.get("kind") == "weights":
            shapes = [tuple(v.shape) for _i, v in spec.variables()]
            ok = isinstance(declared, list) and len(declared) == len(shapes) and all(
                isinstance(d, list) and len(d) == 2 and isinstance(d[1], list) and tuple(d[1]) == s
                for d, s in zip(declared, shapes))
            if not ok:
                raise ValueError(f"load_weights: the file's variables {str(declared)[:300]} do not match the "
                                 f"model's shapes {shapes}")
        _finite("params", params)
        model._engine.set_arena(np.ascontiguousarray(params, dtype=model.dtype))
        return
    file_spec = _spec_of(header)
    if file_spec.count_params() != spec.count_params():
        raise ValueError(f"load_weights: the file holds {file_spec.count_params()} weights, the model has "
                         f"{spec.count_params()}")
    why = _same_architecture(file_spec, spec)
    if why is not None:
        raise ValueError(f"load_weights: the file holds the weights of another architecture ({why})")
    weights = _variables_of(file_spec, arrays, "load_weights")
    model.set_weights([np.ascontiguousarray(w, dtype=model.dtype) for w in weights])
