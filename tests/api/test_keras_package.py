"""fastnn.keras as a package mirroring tf.keras's module tree, and the tf.* surface of
`import fastnn as tf`: imports that port, names that resolve to fastnn, NotImplementedError (never a
bare AttributeError) for the rest, and keras.ops / tf.nn / tf.math against numpy float64 formulas
(and Keras where installed)."""
import importlib
import importlib.util
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn._mirror import NotInFastnn

SUBMODULES = ["models", "layers", "optimizers", "optimizers.schedules", "optimizers.legacy", "losses",
              "metrics", "callbacks", "utils", "initializers", "regularizers", "activations", "ops",
              "wrappers", "backend", "saving"]


@pytest.mark.parametrize("sub", SUBMODULES)
def test_each_submodule_imports_as_tf_keras_spells_it(sub):
    mod = importlib.import_module(f"fastnn.keras.{sub}")
    leaf = sub.split(".")[-1]
    parent = importlib.import_module("fastnn.keras" + ("." + sub.rsplit(".", 1)[0] if "." in sub else ""))
    assert getattr(parent, leaf) is mod
    with pytest.raises(NotImplementedError, match=f"fastnn.keras.{sub}.SomethingKerasHas"):
        getattr(mod, "SomethingKerasHas")


@pytest.mark.parametrize("stmt,obj", [
    ("from fastnn.keras.models import Sequential", "fastnn.models.Sequential"),
    ("from fastnn.keras.models import load_model, Model, clone_model", "fastnn.models.load_model"),
    ("from fastnn.keras.layers import Dense", "fastnn.layers.Dense"),
    ("from fastnn.keras.layers import Input, Dropout, BatchNormalization", "fastnn.layers.Input"),
    ("from fastnn.keras.optimizers import Adam", "fastnn.optimizers.Adam"),
    ("from fastnn.keras.optimizers.legacy import Adam", "fastnn.optimizers.Adam"),
    ("from fastnn.keras.optimizers.schedules import ExponentialDecay", "fastnn.schedules.ExponentialDecay"),
    ("from fastnn.keras.losses import BinaryCrossentropy", "fastnn.losses.BinaryCrossentropy"),
    ("from fastnn.keras.metrics import AUC", "fastnn.metrics.AUC"),
    ("from fastnn.keras.callbacks import EarlyStopping", "fastnn.callbacks.EarlyStopping"),
    ("from fastnn.keras.utils import to_categorical", "fastnn.utils.to_categorical"),
    ("from fastnn.keras.initializers import HeNormal", "fastnn.initializers.HeNormal"),
    ("from fastnn.keras.regularizers import l2", "fastnn.regularizers.l2"),
    ("from fastnn.keras.activations import relu", "fastnn.activations.relu"),
])
def test_from_imports_resolve_to_fastnn_objects(stmt, obj):
    g = {}
    exec(stmt, g)
    name = stmt.split("import ")[1].split(",")[0].strip()
    mod, attr = obj.rsplit(".", 1)
    assert g[name] is getattr(importlib.import_module(mod), attr)


def test_star_import_gives_public_names_only():
    g = {}
    exec("from fastnn.keras.layers import *", g)
    assert g["Dense"] is fastnn.layers.Dense
    assert "np" not in g and "annotations" not in g and "_layers" not in g


def test_tensorflow_import_spellings_port_when_fastnn_stands_in(monkeypatch):
    # A script's own imports, with fastnn registered under the tensorflow names.
    monkeypatch.setitem(sys.modules, "tensorflow", fastnn)
    for sub in ("keras", "keras.layers", "keras.models", "keras.optimizers", "keras.callbacks"):
        monkeypatch.setitem(sys.modules, f"tensorflow.{sub}", importlib.import_module(f"fastnn.{sub}"))
    g = {}
    exec("import tensorflow as tf\nfrom tensorflow.keras.models import Sequential\n"
         "from tensorflow.keras.layers import Dense\nfrom tensorflow.keras import ops\n", g)
    assert g["Sequential"] is fastnn.Sequential and g["Dense"] is fastnn.layers.Dense
    assert g["tf"].keras.layers.Dense is fastnn.layers.Dense


@pytest.mark.parametrize("expr,feature", [
    ("tf.keras.layers.Conv2D", "Conv2D"), ("tf.keras.layers.LSTM", "LSTM"),
    ("tf.keras.datasets", "datasets"), ("tf.keras.utils.get_file", "get_file"),
    ("tf.keras.SomethingNew", "SomethingNew"), ("tf.keras.optimizers.schedules.Warmup", "Warmup"),
    ("tf.GradientTape", "GradientTape"), ("tf.data.TFRecordDataset", "TFRecordDataset"), ("tf.nn.conv2d", "conv2d"),
    ("tf.math.bessel_i0", "bessel_i0"), ("tf.config.set_visible_devices", "set_visible_devices"),
    ("tf.random.poisson", "poisson"), ("tf.keras.ops.fft", "fft"),
])
def test_missing_names_raise_not_implemented_naming_the_feature(expr, feature):
    with pytest.raises(NotImplementedError, match=feature) as info:
        eval(expr, {"tf": fastnn})
    assert "not implemented in fastnn" in str(info.value)


def test_missing_names_still_read_as_missing_to_hasattr_and_getattr_default():
    # NotInFastnn is also an AttributeError: probing code (hasattr, getattr with a default, pickle,
    # IDE completion) keeps working.
    assert issubclass(NotInFastnn, NotImplementedError) and issubclass(NotInFastnn, AttributeError)
    assert not hasattr(fastnn.keras.layers, "Conv2D")
    assert getattr(fastnn.keras, "datasets", None) is None
    assert getattr(fastnn, "GradientTape", 7) == 7
    with pytest.raises(AttributeError):
        fastnn.keras.__wrapped__
    with pytest.raises(AttributeError):
        fastnn.nn._private


def test_names_fastnn_gains_later_resolve_through_the_mirror(monkeypatch):
    monkeypatch.setattr(fastnn.metrics, "BrandNewMetric", object(), raising=False)
    assert fastnn.keras.metrics.BrandNewMetric is fastnn.metrics.BrandNewMetric


def test_wrappers_resolve_lazily():
    code = ("import sys, fastnn.keras as k\n"
            "assert 'fastnn.wrappers' not in sys.modules and 'sklearn' not in sys.modules\n"
            "try:\n    c = k.wrappers.SKLearnClassifier\nexcept ImportError as e:\n    print('IMPORTERROR', e)\n"
            "else:\n    import fastnn.wrappers as w\n    assert c is w.SKLearnClassifier\n"
            "    assert k.wrappers.SKLearnRegressor is w.SKLearnRegressor\n    print('RESOLVED')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    if importlib.util.find_spec("fastnn.wrappers") is None:
        assert "IMPORTERROR" in r.stdout and "fastnn.wrappers" in r.stdout
    else:
        assert "RESOLVED" in r.stdout
    with pytest.raises(NotImplementedError, match="SKLearnTransformer"):
        fastnn.keras.wrappers.SKLearnTransformer


def test_mixed_precision_reexports_or_says_not_implemented():
    if importlib.util.find_spec("fastnn.mixed_precision") is None:
        with pytest.raises(NotImplementedError, match="mixed_precision"):
            fastnn.keras.mixed_precision
        with pytest.raises(NotImplementedError, match="mixed_precision"):
            exec("from fastnn.keras.mixed_precision import set_global_policy", {})
    else:
        source = importlib.import_module("fastnn.mixed_precision")
        mirror = fastnn.keras.mixed_precision
        for name in getattr(source, "__all__", [n for n in vars(source) if not n.startswith("_")]):
            if not isinstance(getattr(source, name), type(sys)):
                assert getattr(mirror, name) is getattr(source, name)


def test_models_and_saving_save_and_load(tmp_path):
    k = fastnn.keras
    m = k.Sequential([k.layers.Input(shape=(3,)), k.layers.Dense(2)])
    p = tmp_path / "m.fastnn"
    k.models.save_model(m, str(p))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(k.saving.load_model(str(p)).predict(x, verbose=0), m.predict(x, verbose=0))
    with pytest.raises(TypeError, match="fastnn model"):
        k.saving.save_model("not a model", str(p))


def test_backend_basics():
    b = fastnn.keras.backend
    assert b.floatx() == "float32" and b.epsilon() == 1e-7 and b.backend() == "fastnn"
    assert b.image_data_format() == "channels_last"
    b.clear_session()
    b.set_floatx("float32")
    with pytest.raises(NotImplementedError, match="dtype='float64'"):
        b.set_floatx("float64")
    m = fastnn.Sequential([fastnn.layers.Input(shape=(3,)), fastnn.layers.Dense(2)])
    v = m.layers[0].kernel
    b.set_value(v, np.ones((3, 2)))
    np.testing.assert_array_equal(b.get_value(v), np.ones((3, 2)))
    assert b.int_shape(v) == (3, 2) and b.count_params(v) == 6


def test_utils_normalize_against_formula():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    out = fastnn.keras.utils.normalize(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [1 / np.sqrt(2), -1 / np.sqrt(2)]])
    assert out.dtype == np.float64
    assert fastnn.keras.utils.normalize(x.astype(np.float32), order=1).dtype == np.float32
    np.testing.assert_allclose(fastnn.keras.utils.normalize(x, axis=0, order=1)[:, 0], [0.75, 0, 0.25])


# --------------------------------------------------------------------------- keras.ops, tf.nn, tf.math
def _softmax64(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_X = np.random.default_rng(0).normal(scale=3, size=(5, 7))
_REF = {
    "relu": lambda x: np.maximum(x, 0), "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh, "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)), "silu": lambda x: x / (1 + np.exp(-x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "softmax": _softmax64, "log_softmax": lambda x: np.log(_softmax64(x)),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
}


@pytest.mark.parametrize("name", sorted(_REF))
@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-6), (np.float64, 1e-12)])
def test_ops_activations_against_float64_formulas(name, dtype, tol):
    out = getattr(fastnn.keras.ops, name)(_X.astype(dtype))
    assert out.dtype == dtype and out.shape == _X.shape
    np.testing.assert_allclose(out, _REF[name](_X), rtol=tol * 10, atol=tol)


def test_ops_softmax_over_another_axis_and_of_lists():
    np.testing.assert_allclose(fastnn.keras.ops.softmax(_X, axis=0), _softmax64(_X, axis=0), rtol=1e-12)
    np.testing.assert_allclose(fastnn.keras.ops.softmax([1.0, 2.0, 3.0]), _softmax64(np.array([1.0, 2, 3])),
                               rtol=1e-6)
    x3 = np.random.default_rng(1).normal(size=(2, 3, 4))
    np.testing.assert_allclose(fastnn.keras.ops.softmax(x3, axis=1), _softmax64(x3, axis=1), rtol=1e-12)
    assert fastnn.keras.ops.relu(np.zeros((0, 3))).shape == (0, 3)


def test_ops_numpy_functions_and_conversions():
    ops = fastnn.keras.ops
    assert ops.argmax(np.array([[1, 5, 2], [7, 0, 1]]), axis=1).tolist() == [1, 0]
    assert ops.mean(np.array([1.0, 2.0, 6.0])) == 3.0 and ops.sum([1, 2, 3]) == 6
    np.testing.assert_allclose(ops.exp(np.array([0.0, 1.0])), [1.0, np.e])
    assert ops.convert_to_numpy([1, 2]).tolist() == [1, 2]
    assert ops.convert_to_tensor(1.5).dtype == np.float32 and ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor(np.array([1.5])).dtype == np.float64
    assert ops.cast(np.array([1.7, -1.2]), "int32").tolist() == [1, -1]
    np.testing.assert_array_equal(ops.one_hot(np.array([0, 2, 5]), 3), [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    values, idx = ops.top_k(np.array([[1, 9, 3, 7]]), 2)
    assert values.tolist() == [[9, 7]] and idx.tolist() == [[1, 3]]
    with pytest.raises(ValueError, match="num_classes"):
        ops.one_hot([1], 0)
    with pytest.raises(TypeError, match="integer labels"):
        ops.one_hot([1.5], 3)
    with pytest.raises(TypeError, match="dtype"):
        ops.cast([1], object())


def test_ops_against_keras_where_installed(keras_module):
    keras = keras_module
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "softplus", "softsign",
                 "silu", "gelu", "leaky_relu", "relu6", "hard_sigmoid"):
        ref = keras.ops.convert_to_numpy(getattr(keras.ops, name)(_X.astype(np.float32)))
        np.testing.assert_allclose(getattr(fastnn.keras.ops, name)(_X.astype(np.float32)), ref,
                                   rtol=1e-5, atol=2e-6, err_msg=name)




def test_tf_surface_values():
    tf = fastnn
    assert tf.version.VERSION == f"{fastnn.__version__}+fastnn" and "fastnn" in tf.version.GIT_VERSION
    assert tf.float32 is np.float32 and tf.int64 is np.int64
    c = tf.constant([[1.0, 2.0]])
    assert isinstance(c, np.ndarray) and c.dtype == np.float32
    assert tf.constant(0, shape=(2, 2)).tolist() == [[0, 0], [0, 0]]
    assert tf.convert_to_tensor([1, 2], dtype=tf.float64).dtype == np.float64
    assert tf.cast(np.array([0.6, 1.4]), tf.int32).tolist() == [0, 1]
    np.testing.assert_allclose(tf.nn.softmax(_X), _softmax64(_X), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.leaky_relu(_X, alpha=0.1), np.where(_X > 0, _X, 0.1 * _X), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.gelu(_X), 0.5 * _X * (1 + _erf(_X / np.sqrt(2))), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(tf.nn.silu(_X, beta=2.0), _X / (1 + np.exp(-2 * _X)), rtol=1e-12)
    z, y = _X, (np.random.default_rng(2).random(_X.shape) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z),
                               -(y * np.log(p) + (1 - y) * np.log(1 - p)), rtol=1e-9)
    np.testing.assert_allclose(tf.math.reduce_mean(_X, axis=[0, 1]), _X.mean(), rtol=1e-12)
    assert tf.reduce_sum(np.ones((2, 3)), axis=1).tolist() == [3.0, 3.0]
    assert tf.math.argmax(np.array([[1, 9], [5, 2]])).tolist() == [1, 0]   # axis 0, as in TensorFlow
    assert tf.math.reduce_variance(np.array([1.0, 3.0])) == 1.0
    cm = tf.math.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]] and cm.dtype == np.int32
    assert tf.one_hot([1, 0], 2).tolist() == [[0, 1], [1, 0]]
    assert tf.concat([np.ones((1, 2)), np.zeros((1, 2))], axis=0).shape == (2, 2)


def test_tf_results_have_numpy_as_in_tensorflow():
    tf = fastnn
    logits = np.array([[1.0, 2.0, 3.0]])
    p = tf.nn.softmax(logits).numpy()
    assert type(p) is np.ndarray and np.allclose(p, _softmax64(logits))
    m = tf.reduce_mean(np.array([1.0, 2.0, 6.0])).numpy()
    assert isinstance(m, np.floating) and m == 3.0 and f"{tf.reduce_mean(np.ones(2)):.2f}" == "1.00"
    assert tf.math.argmax(np.array([[1, 9], [5, 2]]), axis=1).numpy().tolist() == [1, 0]
    assert tf.constant([1.0]).numpy().dtype == np.float32 and tf.cast([1.5], tf.int32).numpy().tolist() == [1]
    assert tf.random.normal((2,)).numpy().shape == (2,)
    assert float(tf.math.reduce_sum(np.ones(3))) == 3.0
    assert isinstance(tf.constant([1.0]), tf.Tensor)


def _erf(x):
    import math

    return np.vectorize(math.erf)(x)


def test_tf_config_and_random():
    tf = fastnn
    cpus = tf.config.list_physical_devices("CPU")
    assert len(cpus) == 1 and cpus[0].device_type == "CPU"
    assert tf.config.list_physical_devices("GPU") == []
    assert tf.config.list_physical_devices() == cpus
    tf.config.experimental.set_memory_growth(cpus[0], True)
    with pytest.raises(TypeError):
        tf.config.list_physical_devices(3)
    tf.random.set_seed(11)
    a = tf.random.normal((3, 2))
    tf.random.set_seed(11)
    np.testing.assert_array_equal(a, tf.random.normal((3, 2)))
    assert a.dtype == np.float32
    u = tf.random.uniform((1000,), minval=2, maxval=3, seed=1)
    assert u.min() >= 2 and u.max() < 3
    assert tf.random.uniform((5,), maxval=4, dtype="int32", seed=1).dtype == np.int32


def test_tf_config_threading_sets_fastnn_threads():
    before = fastnn.get_num_threads()
    try:
        fastnn.config.threading.set_intra_op_parallelism_threads(1)
        assert fastnn.get_num_threads() == 1 == fastnn.config.threading.get_intra_op_parallelism_threads()
        fastnn.config.threading.set_intra_op_parallelism_threads(0)   # 0: leave as is
        assert fastnn.get_num_threads() == 1
    finally:
        fastnn.set_num_threads(before)


def test_namespaces_pickle_and_the_missing_error_round_trips():
    err = pickle.loads(pickle.dumps(NotInFastnn("x")))
    assert isinstance(err, NotImplementedError) and str(err) == "x"
    assert pickle.loads(pickle.dumps(fastnn.keras.ops.softmax)) is fastnn.keras.ops.softmax
