"""Input validation: every accepted input form works (and is not copied when it need not be), every
bad input raises ValueError / TypeError / RuntimeError with a message that names the argument, what
was expected and what was received."""
from __future__ import annotations

import re
import tracemalloc
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import layers
from fastnn._validation import as_float_matrix, as_sample_weight, as_targets

N, D = 48, 5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((N, D)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.float32)
    return x, y


def _binary(seed=1, dtype="float32"):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(6, activation="relu"),
                           layers.Dense(1, activation="sigmoid")], dtype=dtype)
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def _classifier(loss="sparse_categorical_crossentropy", classes=3, seed=2):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(6, activation="relu"),
                           layers.Dense(classes, activation="softmax")])
    m.compile(optimizer="adam", loss=loss)
    return m


# ------------------------------------------------------------------------------------------------
# accepted forms of x / y
# ------------------------------------------------------------------------------------------------
_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
           np.float16, np.float32, np.float64, np.bool_]


@pytest.mark.parametrize("dtype", _DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_real_dtype_is_accepted_and_cast(dtype):
    x, y = _data()
    xd = (x * 4).astype(dtype)
    m = _binary()
    ref = m.predict(np.asarray(xd, dtype=np.float32), verbose=0)
    out = m.predict(xd, verbose=0)
    assert out.dtype == np.float32 and out.shape == (N, 1)
    np.testing.assert_array_equal(out, ref)
    h = m.fit(xd, y.astype(dtype) if dtype != np.float16 else y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    assert np.isfinite(m.evaluate(xd, y, verbose=0)[0])


def _forms(x):
    ro = x.copy()
    ro.flags.writeable = False
    wide = np.zeros((N * 2, D * 3), dtype=np.float32)
    wide[::2, ::3] = x
    return {
        "list": x.tolist(),
        "tuple": tuple(tuple(r) for r in x.tolist()),
        "fortran": np.asfortranarray(x),
        "strided": wide[::2, ::3],
        "readonly": ro,
        "big_endian": x.astype(">f4"),
        "float64": x.astype(np.float64),
    }


@pytest.mark.parametrize("form", ["list", "tuple", "fortran", "strided", "readonly", "big_endian", "float64"])
def test_array_forms_give_identical_results(form):
    x, y = _data()
    xf = _forms(x)[form]
    a, b = _binary(seed=5), _binary(seed=5)
    np.testing.assert_array_equal(a.predict(xf, verbose=0), b.predict(x, verbose=0))
    ha = a.fit(xf, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    hb = b.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert ha.history["loss"] == hb.history["loss"]
    assert a.evaluate(xf, y, verbose=0) == b.evaluate(x, y, verbose=0)


def test_memmap_input(tmp_path):
    x, y = _data()
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=x.shape)
    mm[:] = x
    mm.flush()
    ro = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="r", shape=x.shape)
    m = _binary()
    ref = m.predict(x, verbose=0)
    np.testing.assert_array_equal(m.predict(ro, verbose=0), ref)
    m.fit(ro, y, epochs=1, verbose=0)
    assert np.isfinite(m.predict(ro, verbose=0)).all()
    conv = as_float_matrix(ro, "x", "float32", D, (D,))
    assert np.shares_memory(conv, ro)


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    x, y = _data()
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(D)])
    m = _binary()
    np.testing.assert_array_equal(m.predict(df, verbose=0), m.predict(x, verbose=0))
    h = m.fit(df, pd.Series(y), epochs=1, verbose=0)
    assert len(h.history["loss"]) == 1
    assert np.isfinite(m.evaluate(df, pd.Series(y), verbose=0)[0])
    # nullable extension dtypes without missing values are numbers
    dfi = pd.DataFrame({f"f{i}": pd.array((x[:, i] * 10).astype(int), dtype="Int64") for i in range(D)})
    np.testing.assert_array_equal(m.predict(dfi, verbose=0),
                                  m.predict((x * 10).astype(int).astype(np.float32), verbose=0))


def test_pandas_bad_columns():
    pd = pytest.importorskip("pandas")
    x, y = _data()
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(D)])
    df["f0"] = ["a"] * N
    m = _binary()
    with pytest.raises(TypeError, match=r"x: expected numeric columns.*DataFrame"):
        m.predict(df, verbose=0)
    dfn = pd.DataFrame({f"f{i}": pd.array([1] * (N - 1) + [None], dtype="Int64") for i in range(D)})
    with pytest.raises(ValueError, match=r"x: contains NaN"):
        m.predict(dfn, verbose=0)


# ------------------------------------------------------------------------------------------------
# copies
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_suitable_arrays_are_not_copied(dtype, tmp_path):
    x = np.random.default_rng(0).random((100, 7)).astype(dtype)
    assert np.shares_memory(as_float_matrix(x, "x", dtype, 7, (7,)), x)
    ro = x.copy()
    ro.flags.writeable = False
    assert np.shares_memory(as_float_matrix(ro, "x", dtype, 7, (7,)), ro)
    mm = np.memmap(tmp_path / "m.dat", dtype=dtype, mode="w+", shape=x.shape)
    mm[:] = x
    assert np.shares_memory(as_float_matrix(mm, "x", dtype, 7, (7,)), mm)
    sw = np.ones(100, dtype=dtype)
    assert np.shares_memory(as_sample_weight(sw, "sample_weight", 100, dtype), sw)
    loss = fastnn.losses.get("mse")
    yy = x[:, :3].copy()
    assert np.shares_memory(as_targets(yy, "y", 100, loss, 3, dtype), yy)


@pytest.mark.parametrize("form", ["fortran", "strided", "float64"])
def test_unsuitable_arrays_are_copied_once(form):
    rng = np.random.default_rng(0)
    base = rng.random((4000, 256))
    x = {"fortran": np.asfortranarray(base.astype(np.float32)),
         "strided": base.astype(np.float32)[:, ::2],
         "float64": base}[form]
    out_bytes = x.shape[0] * x.shape[1] * 4
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        out = as_float_matrix(x, "x", "float32", x.shape[1], (x.shape[1],))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert not np.shares_memory(out, x) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, x.astype(np.float32))
    # one output-sized buffer, nothing else of the data's size (no float64 detour, no mask)
    assert peak < out_bytes * 1.1, (peak, out_bytes)


def test_large_input_to_predict_is_copied_at_most_once():
    x = np.random.default_rng(0).random((20000, 64))  # float64: needs exactly one cast
    m = fastnn.Sequential([layers.Input(shape=(64,)), layers.Dense(1)])
    out_bytes = 20000 * 64 * 4
    m.predict(x[:10], verbose=0)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        m.predict(x, verbose=0)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < out_bytes * 1.25 + (1 << 20), (peak, out_bytes)


# ------------------------------------------------------------------------------------------------
# bad x
# ------------------------------------------------------------------------------------------------
def test_x_one_dimensional():
    x, _ = _data()
    with pytest.raises(ValueError, match=r"x: expected a 2-D array \(samples, features\), got shape \(48,\)"):
        _binary().predict(x[:, 0], verbose=0)


def test_x_scalar_and_none():
    m = _binary()
    with pytest.raises(ValueError, match=r"x: expected a 2-D array.*got shape \(\)"):
        m.predict(3.0, verbose=0)
    with pytest.raises(ValueError, match=r"x: expected array data, got None"):
        m.predict(None, verbose=0)


@pytest.mark.parametrize("bad, exc, pattern", [
    (lambda x: x.astype(object), TypeError, r"x: expected a real numeric dtype, got object"),
    (lambda x: x.astype(str), TypeError, r"x: expected a real numeric dtype, got <U"),
    (lambda x: x.astype(np.complex64), TypeError, r"x: complex values are not supported \(got complex64\)"),
    (lambda x: np.zeros(x.shape, dtype="datetime64[s]"), TypeError, r"x: expected a real numeric dtype, got datetime64"),
    (lambda x: [[1.0] * D, [1.0] * (D - 1)], TypeError, r"x: could not be converted to a numeric array"),
    (lambda x: [["1"] * D], TypeError, r"x: expected a real numeric dtype, got <U1"),
    (lambda x: [[10 ** 40] * D], TypeError, r"x: expected a real numeric dtype, got object"),
    (lambda x: "abc", TypeError, r"x: expected numeric array data, got str"),
    (lambda x: {"a": x, "b": x}, TypeError, r"x: expected array data, got a dict"),
], ids=["object", "str", "complex", "datetime", "ragged", "strings-in-list", "huge-int", "a-string", "dict"])
def test_x_bad_dtype(bad, exc, pattern):
    x, y = _data()
    m = _binary()
    with pytest.raises(exc, match=pattern):
        m.predict(bad(x), verbose=0)
    with pytest.raises(exc, match=pattern):
        m.fit(bad(x), y, verbose=0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["predict", "fit", "evaluate"])
def test_x_nonfinite(value, where):
    x, y = _data()
    x[7, 2] = value
    m = _binary()
    with pytest.raises(ValueError, match=r"x: contains NaN or infinite values"):
        if where == "predict":
            m.predict(x, verbose=0)
        elif where == "fit":
            m.fit(x, y, verbose=0)
        else:
            m.evaluate(x, y, verbose=0)


def test_x_overflows_the_model_dtype():
    x, y = _data()
    x = x.astype(np.float64)
    x[0, 0] = 1e300
    with pytest.raises(ValueError, match=r"x: values outside the range of float32"):
        _binary().predict(x, verbose=0)
    np.testing.assert_equal(np.isfinite(_binary(dtype="float64").predict(x, verbose=0)).all(), True)


def test_x_wrong_feature_count():
    x, y = _data()
    m = _binary()
    with pytest.raises(ValueError, match=r"x: expected samples of shape \(5,\), got \(4,\)"):
        m.predict(x[:, :4], verbose=0)
    with pytest.raises(ValueError, match=r"x: expected samples of shape \(5,\), got \(6,\)"):
        m.fit(np.hstack([x, x[:, :1]]), y, verbose=0)


def test_x_zero_samples():
    m = _binary()
    with pytest.raises(ValueError, match=r"x: expected at least one sample, got shape \(0, 5\)"):
        m.predict(np.zeros((0, D), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r"x: expected at least one sample"):
        m.fit(np.zeros((0, D), np.float32), np.zeros(0), verbose=0)


def test_x_zero_features_built_model():
    with pytest.raises(ValueError, match=r"x: expected at least one feature, got shape \(3, 0\)"):
        as_float_matrix(np.zeros((3, 0)), "x", "float32")
    with pytest.raises(ValueError, match=r"x: expected samples of shape \(5,\), got \(0,\)"):
        _binary().predict(np.zeros((3, 0)), verbose=0)


def test_x_zero_features_unbuilt_model():
    m = fastnn.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match=r"x: expected at least one feature"):
        m.predict(np.zeros((3, 0), np.float32), verbose=0)


@pytest.mark.parametrize("bad, exc, pattern", [
    ([[1.0, 2.0], [1.0]], TypeError, r"x: could not be converted to a numeric array"),
    (None, ValueError, r"x: expected array data, got None"),
    ("abc", TypeError, r"x: expected numeric array data, got str"),
    ({"a": 1, "b": 2}, TypeError, r"x: expected array data, got a dict"),
], ids=["ragged", "none", "str", "dict"])
def test_x_bad_on_unbuilt_model(bad, exc, pattern):
    m = fastnn.Sequential([layers.Dense(2)])
    with pytest.raises(exc, match=pattern):
        m.predict(bad, verbose=0)


def test_x_y_length_mismatch():
    x, y = _data()
    m = _binary()
    with pytest.raises(ValueError, match=r"y: expected 48 samples to match x, got 47"):
        m.fit(x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match=r"y: expected 48 samples to match x, got 47"):
        m.evaluate(x, y[:-1], verbose=0)


# ------------------------------------------------------------------------------------------------
# targets against the loss
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_y_nonfinite(value):
    x, y = _data()
    y[3] = value
    with pytest.raises(ValueError, match=r"y: contains NaN or infinite values"):
        _binary().fit(x, y, verbose=0)
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"y: contains NaN or infinite values"):
        m.fit(x, y, verbose=0)


def test_y_bad_dtype():
    x, y = _data()
    with pytest.raises(TypeError, match=r"y: expected a real numeric dtype, got <U"):
        _binary().fit(x, y.astype(str), verbose=0)
    with pytest.raises(TypeError, match=r"y: complex values"):
        _binary().fit(x, y.astype(complex), verbose=0)
    with pytest.raises(ValueError, match=r"y: expected one target per sample, got a scalar"):
        _binary().fit(x, 1.0, verbose=0)


@pytest.mark.parametrize("bad, pattern", [
    (np.full(N, 3), r"y: sparse labels must be in \[0, 3\) for an output of 3 classes, got values in \[3, 3\]"),
    (np.full(N, -1), r"y: sparse labels must be in \[0, 3\).*got values in \[-1, -1\]"),
    (np.full(N, 1.5), r"y: sparse labels must be integers.*1\.5"),
    (np.full(N, np.nan), r"y: contains NaN or infinite values"),
    (np.eye(3)[np.arange(N) % 3], r"y: sparse_categorical_crossentropy expects integer labels of shape \(48,\) or \(48, 1\), got \(48, 3\)"),
    (np.full(N, 2 ** 63, dtype=np.uint64), r"y: sparse labels must be in \[0, 3\)"),
])
def test_sparse_labels(bad, pattern):
    x, _ = _data()
    m = _classifier()
    w0 = m.get_weights()
    with pytest.raises(ValueError, match=pattern):
        m.fit(x, bad, verbose=0)
    with pytest.raises(ValueError, match=pattern):
        m.evaluate(x, bad, verbose=0)
    for a, b in zip(w0, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # a rejected call changes nothing


def test_sparse_labels_accepted_forms():
    x, _ = _data()
    m = _classifier()
    for y in (np.arange(N) % 3, (np.arange(N) % 3).astype(np.float32), (np.arange(N) % 3).reshape(-1, 1),
              (np.arange(N) % 3).astype(np.uint8), list(np.arange(N) % 3)):
        assert np.isfinite(m.fit(x, y, epochs=1, verbose=0).history["loss"][0])


@pytest.mark.parametrize("bad", [2.0, -0.5])
def test_bce_targets_outside_unit_interval(bad):
    x, y = _data()
    y[0] = bad
    with pytest.raises(ValueError, match=r"y: binary_crossentropy targets must be in \[0, 1\], got values in"):
        _binary().fit(x, y, verbose=0)


def test_one_hot_shape_mismatch():
    x, _ = _data()
    m = _classifier(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y: expected targets of shape \(48, 3\) to match the model output, got \(48, 4\)"):
        m.fit(x, np.eye(4)[np.arange(N) % 4], verbose=0)
    with pytest.raises(ValueError, match=r"y: categorical_crossentropy expects one-hot targets of shape \(48, 3\).*sparse_categorical_crossentropy"):
        m.fit(x, np.arange(N) % 3, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data y: expected targets of shape \(10, 3\)"):
        m.fit(x, np.eye(3)[np.arange(N) % 3], validation_data=(x[:10], np.eye(2)[np.arange(10) % 2]), verbose=0)


# ------------------------------------------------------------------------------------------------
# weights
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sw, exc, pattern", [
    (np.ones(N - 1), ValueError, r"sample_weight: expected 48 weights \(one per sample\), got shape \(47,\)"),
    (1.0, ValueError, r"sample_weight: expected 48 weights \(one per sample\), got shape \(\)"),
    (np.ones((N, 2)), ValueError, r"sample_weight: expected 48 weights.*got shape \(48, 2\)"),
    (-np.ones(N), ValueError, r"sample_weight: weights must be non-negative, got a minimum of -1"),
    (np.full(N, np.nan), ValueError, r"sample_weight: contains NaN or infinite values"),
    (["a"] * N, TypeError, r"sample_weight: expected a real numeric dtype, got <U1"),
    ([[1.0], [1.0, 2.0]], TypeError, r"sample_weight: could not be converted"),
])
def test_sample_weight(sw, exc, pattern):
    x, y = _data()
    with pytest.raises(exc, match=pattern):
        _binary().fit(x, y, sample_weight=sw, verbose=0)


def test_sample_weight_column_accepted():
    x, y = _data()
    m = _binary()
    assert np.isfinite(m.fit(x, y, sample_weight=np.ones((N, 1)), verbose=0).history["loss"][0])


def test_class_weight_bad_values():
    x, _ = _data()
    y = np.arange(N) % 3
    with pytest.raises(ValueError, match=r"class_weight: .*'a'"):
        _classifier().fit(x, y, class_weight={"a": 1.0}, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight: weight of class 0 must be a non-negative number, got -1"):
        _classifier().fit(x, y, class_weight={0: -1}, verbose=0)
    with pytest.raises(TypeError, match=r"class_weight: expected a dict"):
        _classifier().fit(x, y, class_weight=[1.0, 2.0], verbose=0)


def test_class_weight_unknown_class():
    x, _ = _data()
    with pytest.raises(ValueError, match=r"class_weight: .*5"):
        _classifier().fit(x, np.arange(N) % 3, class_weight={0: 1.0, 5: 2.0}, verbose=0)


# ------------------------------------------------------------------------------------------------
# arguments
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, pattern", [
    ({"batch_size": 0}, r"batch_size: expected a positive int.*got 0"),
    ({"batch_size": -3}, r"batch_size: expected a positive int.*got -3"),
    ({"batch_size": 2.5}, r"batch_size: expected a positive int.*got 2\.5"),
    ({"batch_size": "32"}, r"batch_size: expected a positive int.*got '32'"),
    ({"batch_size": True}, r"batch_size: expected a positive int.*got True"),
    ({"epochs": -1}, r"epochs: expected a non-negative int, got -1"),
    ({"epochs": 1.0}, r"epochs: expected a non-negative int, got 1\.0"),
    ({"validation_split": 1.0}, r"validation_split: expected a number in \[0, 1\), got 1\.0"),
    ({"validation_split": -0.1}, r"validation_split: expected a number in \[0, 1\), got -0\.1"),
    ({"validation_split": float("nan")}, r"validation_split: expected a number in \[0, 1\), got nan"),
    ({"validation_split": "0.2"}, r"validation_split: expected a number in \[0, 1\), got '0\.2'"),
    ({"verbose": 7}, r"verbose: expected 0, 1, 2 or 'auto', got 7"),
    ({"shuffle": "yes"}, r"shuffle: expected True, False or 'batch', got 'yes'"),
    ({"steps_per_epoch": 0}, r"steps_per_epoch: expected a positive int"),
    ({"validation_freq": 0}, r"validation_freq: expected a positive int, got 0"),
])
def test_fit_arguments(kwargs, pattern):
    x, y = _data()
    m = _binary()
    kwargs.setdefault("verbose", 0)
    with pytest.raises(ValueError, match=pattern):
        m.fit(x, y, **kwargs)


def test_predict_evaluate_arguments():
    x, y = _data()
    m = _binary()
    with pytest.raises(ValueError, match=r"batch_size: expected a positive int.*got 0"):
        m.predict(x, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match=r"batch_size: expected a positive int.*got -1"):
        m.evaluate(x, y, batch_size=-1, verbose=0)
    with pytest.raises(ValueError, match=r"verbose: expected 0, 1, 2 or 'auto', got 'loud'"):
        m.predict(x, verbose="loud")


def test_validation_split_leaving_nothing():
    x, y = _data()
    with pytest.raises(ValueError, match=r"validation_split=0\.5 leaves no samples for training or validation "
                       r"with 1 samples"):
        _binary().fit(x[:1], y[:1], validation_split=0.5, verbose=0)


@pytest.mark.parametrize("lr", [-1.0, float("nan"), float("inf"), "0.1", None, [0.1]])
@pytest.mark.parametrize("opt", ["SGD", "Adam", "RMSprop"])
def test_learning_rate(opt, lr):
    cls = getattr(fastnn.optimizers, opt)
    with pytest.raises(ValueError, match=r"learning_rate: expected a non-negative finite number or a schedule, got"):
        cls(learning_rate=lr)


@pytest.mark.parametrize("units", [0, -1, 2.5, "8", None, True])
def test_units(units):
    with pytest.raises(ValueError, match=r"units: expected a positive int, got " + re.escape(repr(units))):
        layers.Dense(units)


@pytest.mark.parametrize("make, pattern, valid", [
    (lambda: layers.Dense(3, activation="rellu"), r"activation: unknown name 'rellu'; valid names are: .*", "relu"),
    (lambda: layers.Dense(3, kernel_initializer="glorot"), r"initializer: unknown name 'glorot'; valid names are: .*", "glorot_uniform"),
    (lambda: fastnn.losses.get("crossentropy"), r"loss: unknown name 'crossentropy'; valid names are: .*", "binary_crossentropy"),
    (lambda: fastnn.optimizers.get("adamm"), r"optimizer: unknown name 'adamm'; valid names are: .*", "adam"),
    (lambda: _binary().compile(optimizer="adam", loss="mse", metrics=["acuracy"]), r"(?i)metric.*'acuracy'.*", "accuracy"),
    (lambda: _binary().compile(optimizer="nope", loss="mse"), r"optimizer: unknown name 'nope'", "sgd"),
    (lambda: _binary().compile(optimizer="adam", loss="nope"), r"loss: unknown name 'nope'", "mse"),
], ids=["activation", "initializer", "loss", "optimizer", "metric", "compile-optimizer", "compile-loss"])
def test_unknown_names_list_valid_ones(make, pattern, valid):
    with pytest.raises(ValueError, match=pattern) as ei:
        make()
    assert re.search(r"\b" + re.escape(valid) + r"\b", str(ei.value)), str(ei.value)


def test_wrong_type_identifiers():
    with pytest.raises(TypeError, match=r"activation: expected a name"):
        layers.Dense(3, activation=3.5)
    with pytest.raises(TypeError, match=r"loss: expected a name"):
        fastnn.losses.get(3.5)
    with pytest.raises(TypeError, match=r"optimizer: expected a name"):
        fastnn.optimizers.get(3.5)
    with pytest.raises(TypeError, match=r"initializer: expected a name"):
        fastnn.initializers.get(3.5)


def test_compile_without_loss():
    with pytest.raises(ValueError, match=r"compile: loss is required"):
        fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(1)]).compile(optimizer="adam")


def test_fit_and_evaluate_before_compile():
    x, y = _data()
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(1)])
    for call in (lambda: m.fit(x, y, verbose=0), lambda: m.evaluate(x, y, verbose=0),
                 lambda: m.train_on_batch(x, y)):
        with pytest.raises(RuntimeError, match=r"the model must be compiled first; call model.compile"):
            call()
    assert m.predict(x, verbose=0).shape == (N, 1)  # predict needs no compile


def test_set_weights_count_and_shapes():
    m = _binary()
    w = m.get_weights()
    with pytest.raises(ValueError, match=r"set_weights: expected 4 arrays, got 3"):
        m.set_weights(w[:3])
    bad = list(w)
    bad[0] = np.zeros((D + 1, 6))
    with pytest.raises(ValueError, match=r"set_weights: .*kernel expected shape \(5, 6\), got \(6, 6\)"):
        m.set_weights(bad)
    bad = list(w)
    bad[1] = np.full(6, np.nan)
    with pytest.raises(ValueError, match=r"set_weights: .*bias contains NaN or infinite values"):
        m.set_weights(bad)
    for a, b in zip(w, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was written by the failed calls
    with pytest.raises(ValueError, match=r"layer '.*': set_weights expected 2 arrays, got 1"):
        m.layers[0].set_weights([w[0]])


@pytest.mark.parametrize("label", [1e17, 2.0**40, 1e300])
def test_to_categorical_huge_labels(label):
    with pytest.raises(ValueError, match=r"to_categorical: label"):
        fastnn.utils.to_categorical(np.array([0.0, label]))


def test_to_categorical_object_labels():
    with pytest.raises(TypeError, match=r"to_categorical: expected numeric labels, got dtype object"):
        fastnn.utils.to_categorical(np.array([0, 3.4e38], dtype=object))


def test_to_categorical_bad_labels():
    for bad in ([0.5, 1], [-1, 2], [np.nan, 1], [np.inf, 1]):
        with pytest.raises(ValueError, match=r"to_categorical: labels must be non-negative integers"):
            fastnn.utils.to_categorical(np.array(bad))
    with pytest.raises(ValueError, match=r"to_categorical: label 3 is out of range for num_classes=3"):
        fastnn.utils.to_categorical([0, 3], num_classes=3)
    np.testing.assert_array_equal(fastnn.utils.to_categorical([2, 0]), [[0, 0, 1], [1, 0, 0]])


# ------------------------------------------------------------------------------------------------
# non-finite loss during training
# ------------------------------------------------------------------------------------------------
def _diverging():
    fastnn.utils.set_random_seed(11)
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    m.compile(optimizer=fastnn.optimizers.SGD(learning_rate=1e6), loss="mse")
    x, _ = _data()
    return m, x, x.sum(axis=1) * 1e3


def test_nonfinite_loss_warns_exactly_once():
    m, x, y = _diverging()
    with pytest.warns(RuntimeWarning, match=r"fit: the loss became NaN or infinite") as rec:
        h = m.fit(x, y, epochs=5, batch_size=8, verbose=0)
    relevant = [w for w in rec if "NaN or infinite" in str(w.message)]
    assert len(relevant) == 1
    assert len(h.history["loss"]) == 5  # training went on


def test_terminate_on_nan_stops(capsys):
    m, x, y = _diverging()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when TerminateOnNaN is there
        h = m.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[fastnn.callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1
    assert not np.isfinite(h.history["loss"][0])
    assert m.stop_training
    assert m.optimizer.iterations < 5 * (N // 8)
    assert "Invalid loss, terminating training" in capsys.readouterr().out
