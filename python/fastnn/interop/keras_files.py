"""Keras 3's own files, read and written without Keras: `.keras` archives (a zip of config.json,
metadata.json and model.weights.h5) and `.weights.h5` files (HDF5, through h5py).

In a weights file, layer L's variables are the datasets "0", "1", ... of the group
layers/<key>/vars, where <key> is the snake-case name of L's class, suffixed _1, _2 ... for later
layers of the same class (Keras's naming, independent of the layer names). Everything read is
checked against the configuration before use: a dataset of another shape is refused before it is
read, and archive members are read with a bound on their declared size."""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile

import numpy as np

from .. import __version__ as _fastnn_version
from . import _keras_config
from ..spec import build_model, model_spec

_MAX_CONFIG = 64 << 20
_KERAS_VERSION = "3.0.0"   # the oldest Keras 3 that reads what save_keras writes


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise ImportError("reading and writing Keras weight files needs h5py: pip install 'fastnn[keras]'") from e
    return h5py


def _read_archive(path):
    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load_keras: {path!r} is not a Keras .keras archive (not a zip file)")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "config.json" not in names:
            raise ValueError(f"load_keras: {path!r} is a zip file without config.json, not a Keras archive")
        if "model.weights.h5" not in names:
            other = sorted(n for n in names if n.startswith("model.weights"))
            raise ValueError(f"load_keras: {path!r} holds no model.weights.h5 (found {other or 'no weights'}); "
                             "only HDF5 weights are read")
        info = zf.getinfo("config.json")
        if info.file_size > _MAX_CONFIG:
            raise ValueError(f"load_keras: config.json declares {info.file_size} bytes, over the "
                             f"{_MAX_CONFIG}-byte bound")
        try:
            config = json.loads(zf.read("config.json").decode("utf-8"))
        except (ValueError, RecursionError) as e:
            raise ValueError(f"load_keras: config.json is not valid JSON ({str(e)[:200]})") from None
        weights = zf.read("model.weights.h5")   # bounded by the declared size; zipfile checks the CRC
    if not isinstance(config, dict):
        raise ValueError("load_keras: config.json does not describe a model")
    return config, weights


def _layer_entries(config):
    return [e for e in (config.get("config") or {}).get("layers", []) if isinstance(e, dict)]


def _read_weights(h5file, spec, keras_keys, sources, where, check_names):
    """The spec's weights, in spec order, from an open weights file. As in Keras, layers are matched
    by position within their class; check_names also requires the layer names stored beside the
    variables to match (they must, when the configuration comes from the same archive)."""
    by_name = {ls.name: ls for ls in spec.layers}
    arrays = []
    for name in sources:
        ls = by_name[name]
        group = f"layers/{keras_keys[name]}/vars"
        if group not in h5file:
            raise ValueError(f"{where}: the weights of layer {name!r} ({group}) are missing")
        g = h5file[group]
        stored = g.attrs.get("name")
        if isinstance(stored, bytes):
            stored = stored.decode("utf-8", "replace")
        if check_names and stored is not None and str(stored) != name:
            raise ValueError(f"{where}: {group} belongs to layer {stored!r}, expected {name!r}; the file is "
                             "not from this architecture")
        if len(g) != len(ls.variables):
            raise ValueError(f"{where}: layer {name!r} has {len(g)} variables in the file, expected "
                             f"{len(ls.variables)}")
        for j, v in enumerate(ls.variables):
            ds = g.get(str(j))
            if ds is None or not hasattr(ds, "shape") or tuple(ds.shape) != tuple(v.shape):
                got = None if ds is None else getattr(ds, "shape", "a group")
                raise ValueError(f"{where}: variable {name}/{v.name} expected shape {tuple(v.shape)}, got {got}")
            if ds.dtype.kind != "f":
                raise ValueError(f"{where}: variable {name}/{v.name} has dtype {ds.dtype}, expected floats")
            a = np.asarray(ds[()], dtype=spec.dtype)
            if not np.isfinite(a).all():
                raise ValueError(f"{where}: variable {name}/{v.name} contains NaN or infinite values")
            arrays.append(a)
    return arrays


def load_keras(filepath):
    """A fastnn model (architecture and weights) from a Keras 3 `.keras` archive, without Keras.

    Needs h5py. The archive is checked before use: members are read with a bound on their declared
    size, and every weight must have the shape the configuration implies and finite values.

    Parameters
    ----------
    filepath : str or os.PathLike
        A `.keras` archive (a zip of config.json, metadata.json and model.weights.h5) of a
        Sequential or a functional chain of layers fastnn has. An HDF5 weights file (which holds no
        architecture) raises ValueError pointing to load_keras_weights; a malformed archive or an
        unsupported layer raises ValueError.

    Returns
    -------
    Sequential
        A built, uncompiled model (the archive's optimizer state is not read).
    """
    h5py = _h5py()
    path = os.fspath(filepath)
    if path.endswith(".weights.h5") or (os.path.isfile(path) and _is_hdf5(path)):
        raise ValueError(f"load_keras: {path!r} is an HDF5 weights file, which holds no architecture; build the "
                         "model and call fastnn.interop.load_keras_weights(model, path)")
    config, weights = _read_archive(path)
    try:
        spec, sources = _keras_config.spec_from_keras(config)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"load_keras: config.json is malformed ({type(e).__name__}: {str(e)[:200]})") from None
    keys = _keys(_layer_entries(config))
    with h5py.File(io.BytesIO(weights), "r") as f:
        arrays = _read_weights(f, spec, keys, sources, f"load_keras({path!r})", True)
    return build_model(spec, arrays)


def load_keras_weights(model, filepath):
    """Sets a built fastnn model's weights from a Keras `.weights.h5` file or `.keras` archive.

    The file must come from a Keras model of the same architecture: as in Keras, layers are matched
    by their position among the layers of their class, not by name. Needs h5py.

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError when it is not built).
    filepath : str or os.PathLike
        A `.weights.h5` file (model.save_weights in Keras 3) or a `.keras` archive, whose weights
        are used. Another kind of file, a missing layer, a dataset of another shape (refused before
        it is read) or a NaN/infinite value raises ValueError, and the model is left unchanged.
    """
    h5py = _h5py()
    path = os.fspath(filepath)
    spec = model_spec(model)
    _, weighted, classes = _keras_config.keras_from_spec(spec)
    names = [e for e in _keras_names(spec)]
    keys = dict(zip(names, _keras_config.weight_keys(classes)))
    sources = [name for name, _ in weighted]
    if zipfile.is_zipfile(path):
        _, data = _read_archive(path)
        src = io.BytesIO(data)
    else:
        if not _is_hdf5(path):
            raise ValueError(f"load_keras_weights: {path!r} is neither an HDF5 weights file nor a .keras archive")
        src = path
    with h5py.File(src, "r") as f:
        arrays = _read_weights(f, spec, keys, sources, f"load_keras_weights({path!r})", False)
    model.set_weights(arrays)


def _keras_names(spec):
    config, _, _ = _keras_config.keras_from_spec(spec)
    return [e["config"]["name"] for e in config["config"]["layers"][1:]]


def _keys(entries):
    """{layer name: weights-file key} for the layer entries of a Keras configuration."""
    entries = [e for e in entries if e.get("class_name") != "InputLayer"]
    keys = _keras_config.weight_keys([e.get("class_name", "") for e in entries])
    return {(e.get("config") or {}).get("name"): k for e, k in zip(entries, keys)}


def _is_hdf5(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89HDF\r\n\x1a\n"


def save_keras(model, filepath, overwrite=True):
    """Writes the model as a Keras 3 `.keras` archive that keras.models.load_model reads.

    The archive holds the architecture and weights, not the optimizer state or compile settings;
    it is written atomically (a failure leaves no partial file). Needs h5py, not Keras.

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError when it is not built).
    filepath : str or os.PathLike
        The file to write; its name must end in ".keras", as Keras requires (ValueError otherwise).
    overwrite : bool, default True
        Whether an existing file may be replaced; False raises FileExistsError when it exists.
    """
    from ..saving import _write_atomic

    h5py = _h5py()
    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError(f"filepath: a Keras archive's name must end in .keras (Keras requires it), got {path!r}")
    spec = model_spec(model)
    config, weighted, classes = _keras_config.keras_from_spec(spec)
    from .keras import split_weights

    per_layer = split_weights(spec, model.get_weights())
    index = dict(weighted)
    entries = config["config"]["layers"][1:]
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("vars").attrs["name"] = spec.name
        layers = f.create_group("layers")
        for e, key in zip(entries, _keras_config.weight_keys(classes)):
            name = e["config"]["name"]
            g = layers.create_group(key).create_group("vars")
            g.attrs["name"] = name
            for j, a in enumerate(per_layer[index[name]] if name in index else []):
                g.create_dataset(str(j), data=np.asarray(a, dtype=spec.dtype))
    meta = {"keras_version": _KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            "producer": f"fastnn {_fastnn_version}"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps(meta))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", buf.getvalue())
    _write_atomic(path, out.getvalue(), overwrite)
