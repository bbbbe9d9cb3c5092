"""ModelSpec (fastnn.spec): produced by every layer kind and option, round-trips through its dict
form, builds an identical model, and refuses inconsistent descriptions naming the field."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import fastnn
from fastnn import layers, regularizers
from fastnn.spec import LayerSpec, ModelSpec, VariableSpec, build_model, model_spec

X = np.random.default_rng(0).random((5, 6)).astype(np.float32)

_LAYERS = {
    "dense": lambda: [layers.Dense(4, activation="tanh", kernel_initializer="he_normal",
                                   kernel_regularizer=regularizers.L2(0.01))],
    "dense-no-bias": lambda: [layers.Dense(3, use_bias=False, activation="relu")],
    "activation": lambda: [layers.Activation("softmax")],
    "dropout": lambda: [layers.Dropout(0.3, seed=5)],
    "batchnorm": lambda: [layers.BatchNormalization(momentum=0.9, epsilon=1e-4)],
    "batchnorm-no-center-scale": lambda: [layers.BatchNormalization(center=False, scale=False)],
    "batchnorm-no-scale": lambda: [layers.BatchNormalization(scale=False, beta_regularizer=regularizers.L1(0.1))],
    "layernorm": lambda: [layers.LayerNormalization(epsilon=1e-5)],
    "layernorm-no-center": lambda: [layers.LayerNormalization(center=False)],
    "frozen": lambda: [layers.Dense(4, trainable=False), layers.BatchNormalization(trainable=False)],
}


def _model(kind, dtype="float32"):
    return fastnn.Sequential([layers.Input((6,)), layers.Dense(5, activation="relu"), *_LAYERS[kind](),
                              layers.Dense(2)], dtype=dtype, seed=7)


@pytest.mark.parametrize("kind", sorted(_LAYERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_for_every_layer_kind_and_option(kind, dtype):
    m = _model(kind, dtype)
    spec = m.spec()
    assert spec == model_spec(m)
    assert [v.shape for _i, v in spec.variables()] == [w.shape for w in m.get_weights()]
    assert spec.variable_names() == [v.name for v in m.weights]
    d = json.loads(json.dumps(spec.to_dict()))             # JSON-safe
    again = ModelSpec.from_dict(d)
    assert again == spec
    clone = build_model(again, weights=m.get_weights())
    assert clone.spec().to_dict() == spec.to_dict()
    np.testing.assert_array_equal(clone.predict(X, verbose=0), m.predict(X, verbose=0))
    by_name = build_model(spec, weights=dict(zip(spec.variable_names(), m.get_weights())))
    np.testing.assert_array_equal(by_name.predict(X, verbose=0), m.predict(X, verbose=0))


def test_variables_in_keras_layout_and_trainable_flags():
    m = fastnn.Sequential([layers.Input((6,)), layers.Dense(4), layers.BatchNormalization(),
                           layers.Dense(3, trainable=False)])
    s = m.spec()
    assert [(ls.kind, ls.input_shape, ls.output_shape) for ls in s.layers] == [
        ("dense", (6,), (4,)), ("batch_normalization", (4,), (4,)), ("dense", (4,), (3,))]
    assert s.layers[0].variables == (VariableSpec("kernel", (6, 4), True), VariableSpec("bias", (4,), True))
    assert [(v.name, v.trainable) for v in s.layers[1].variables] == [
        ("gamma", True), ("beta", True), ("moving_mean", False), ("moving_variance", False)]
    assert not any(v.trainable for v in s.layers[2].variables)
    assert s.count_params() == m.count_params()
    assert build_model(s).layers[2].trainable is False


def test_flatten_and_multi_dim_input():
    m = fastnn.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(2)])
    s = m.spec()
    assert s.input_shape == (2, 3) and s.layers[0] == LayerSpec("flatten", s.layers[0].name, s.layers[0].config,
                                                                (2, 3), (6,), ())
    assert ModelSpec.from_dict(s.to_dict()) == s


def test_seeded_build_is_reproducible_and_independent_of_other_builds():
    s = _model("dense").spec()
    a = build_model(s, seed=11).get_weights()
    _model("batchnorm")                                    # another model built in between
    b = build_model(s, seed=11).get_weights()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


def test_unbuilt_model_has_no_spec():
    with pytest.raises(ValueError, match="not built"):
        fastnn.Sequential([layers.Dense(2)]).spec()


def _bad(change):
    d = _model("batchnorm").spec().to_dict()
    change(d)
    return d


@pytest.mark.parametrize("change,field", [
    (lambda d: d.update(name=3), "ModelSpec.name"),
    (lambda d: d.update(dtype="int8"), "ModelSpec.dtype"),
    (lambda d: d.update(input_shape=[0]), "ModelSpec.input_shape"),
    (lambda d: d.update(layers={}), "ModelSpec.layers"),
    (lambda d: d["layers"][0].update(kind="conv2d"), r"ModelSpec.layers\[0\].kind"),
    (lambda d: d["layers"][1].update(name=d["layers"][0]["name"]), r"ModelSpec.layers\[1\].name"),
    (lambda d: d["layers"][1].update(input_shape=[7]), r"ModelSpec.layers\[1\].input_shape"),
    (lambda d: d["layers"][0].update(output_shape=[9]), r"ModelSpec.layers\[0\].output_shape"),
    (lambda d: d["layers"][0]["variables"][0].update(shape=[6, 9]), r"ModelSpec.layers\[0\].variables"),
    (lambda d: d["layers"][1]["variables"].pop(), r"ModelSpec.layers\[1\].variables"),
    (lambda d: d["layers"][1]["variables"][2].update(trainable=True), r"moving_mean"),
    (lambda d: d["layers"][0]["config"].update(units="5"), r"ModelSpec.layers\[0\].config"),
    (lambda d: d["layers"][0]["config"].update(activation="os.system"), r"ModelSpec.layers\[0\].config"),
    (lambda d: d["layers"][0]["variables"][0].update(trainable="yes"), r"trainable"),
])
def test_from_dict_refuses_inconsistent_descriptions(change, field):
    with pytest.raises(ValueError, match=field):
        ModelSpec.from_dict(_bad(change))


def test_build_model_checks_every_weight_shape():
    s = _model("dense").spec()
    w = _model("dense").get_weights()
    bad = copy.deepcopy(w)
    bad[0] = np.zeros((6, 6))
    with pytest.raises(ValueError, match=f"variable {s.variable_names()[0]!r} expected shape"):
        build_model(s, weights=bad)
    with pytest.raises(ValueError, match="expected"):
        build_model(s, weights=w[:-1])
    with pytest.raises(ValueError, match="missing"):
        build_model(s, weights={"nope": w[0]})
