"""model.export(path, format="onnx"): a checked ONNX graph that onnxruntime runs to the same outputs
as model.predict, for every activation and layer kind, both dtypes, and any batch size."""
import os

import numpy as np
import pytest

import fastnn
from fastnn import activations, layers

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ACTIVATIONS = sorted(set(activations.ALL) - {"swish", "hard_swish"}) + [
    {"name": "gelu", "approximate": True}, {"name": "leaky_relu", "negative_slope": 0.05},
    {"name": "elu", "alpha": 0.7}, {"name": "relu", "max_value": 1.5},
    {"name": "relu", "negative_slope": 0.1, "threshold": 0.25, "max_value": 2.0}]
# float64: ONNX's epsilon attributes are float32 and onnxruntime's Erf runs in float32 (see
# fastnn/export/onnx.py), so the graphs agree to about 1e-7 rather than to float64 rounding.
TOL = {"float32": 1e-5, "float64": 1e-6}


def _run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.name == "input" and out.name == "output"
    assert isinstance(inp.shape[0], str)   # the batch dimension is symbolic
    return sess.run(None, {"input": x})[0]


def _randomize(model, rng):
    ws = []
    for v in model.weights:
        w = rng.normal(size=v.shape)
        if v.name.endswith("moving_variance"):
            w = rng.uniform(0.5, 2.0, size=v.shape)
        ws.append(w)
    model.set_weights(ws)
    return model


def _check(model, tmp_path, rng, batches=(1, 37), scale=2.0):
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version >= 17
    tol = TOL[model.dtype]
    for n in batches:
        x = rng.normal(scale=scale, size=(n, *model.input_shape[1:])).astype(model.dtype)
        got = _run(path, x)
        assert got.dtype == np.dtype(model.dtype)
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=tol, atol=tol)
    return proto


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=str)
def test_every_activation_in_dense_and_as_a_layer(act, dtype, tmp_path):
    rng = np.random.default_rng(0)
    # exp of exp would turn float32 rounding in a MatMul into a relative error above 1e-5
    tail = [layers.Activation(act)] if act != "exponential" else [layers.Activation("tanh")]
    model = fastnn.Sequential([layers.Input((6,)), layers.Dense(8, activation=act), layers.Dense(5), *tail],
                              dtype=dtype)
    _check(_randomize(model, rng), tmp_path, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False), (False, False)])
def test_normalizations_dropout_flatten(center, scale, dtype, tmp_path):
    rng = np.random.default_rng(1)
    model = fastnn.Sequential([
        layers.Input((3, 4)), layers.Flatten(), layers.Dense(9, activation="tanh", use_bias=False),
        layers.BatchNormalization(epsilon=1e-2, center=center, scale=scale), layers.Dropout(0.5),
        layers.LayerNormalization(epsilon=1e-4, center=center, scale=scale), layers.Dense(4, activation="softmax"),
    ], dtype=dtype)
    proto = _check(_randomize(model, rng), tmp_path, rng, batches=(1, 37, 5))
    ops = {n.op_type for n in proto.graph.node}
    assert {"MatMul", "BatchNormalization", "LayerNormalization", "Flatten", "Softmax"} <= ops
    assert "Dropout" not in ops


def test_initializers_are_named_after_the_variables(tmp_path):
    model = _randomize(fastnn.Sequential([layers.Input((3,)), layers.Dense(2, name="fc"),
                                          layers.BatchNormalization(name="bn")]), np.random.default_rng(2))
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx")
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    for v in model.weights:
        np.testing.assert_array_equal(inits[v.name], v.numpy())


def test_export_after_training_matches_predict(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 5)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = fastnn.Sequential([layers.Input((5,)), layers.Dense(16, activation="relu"), layers.BatchNormalization(),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    _check(model, tmp_path, rng)


def test_bad_calls(tmp_path):
    model = fastnn.Sequential([layers.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="format"):
        model.export(str(tmp_path / "m.pb"), format="tf_saved_model")
    with pytest.raises(ValueError, match="opset_version"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", opset_version=13)
    with pytest.raises(ValueError, match="built"):
        fastnn.Sequential([layers.Dense(2)]).export(str(tmp_path / "m.onnx"), format="onnx")
    with pytest.raises(FileNotFoundError):
        model.export(str(tmp_path / "missing" / "m.onnx"), format="onnx")
    assert not os.listdir(tmp_path)   # nothing half-written is left behind
