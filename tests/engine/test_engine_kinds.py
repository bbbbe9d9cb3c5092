"""Kinds and defaults come from the engine: the Python tables are the engine's enums, every cast
into an enum is range-checked (a bad kind raises instead of silently doing nothing), the decoders
take their defaults from the C++ structs, and layers are built through one named-attribute
factory."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastnn
from fastnn import _core, activations, initializers, losses, optimizers, schedules


def _members(enum):
    return {name: int(v) for name, v in enum.__members__.items()}


def test_python_tables_are_the_engines_enums():
    assert activations._KIND == _members(_core.ActKind)
    assert losses._KIND == _members(_core.LossKind)
    assert optimizers._KIND == _members(_core.OptKind)
    assert schedules._KIND == _members(_core.ScheduleKind)
    assert {k: v for k, v in initializers._INIT.items()} == _members(_core.InitKind)
    # values are dense 0..n-1 (the engine's range checks rely on it)
    for enum in (_core.ActKind, _core.LossKind, _core.OptKind, _core.ScheduleKind, _core.InitKind,
                 _core.FanMode, _core.Distribution):
        assert sorted(_members(enum).values()) == list(range(len(enum.__members__)))


def test_every_python_class_maps_to_an_engine_kind():
    for name in optimizers._KIND:
        assert getattr(optimizers, name)._native_kind == name
    for cls in initializers._CLASSES.values():
        assert cls._kind in initializers._INIT.values()


def _net(dtype=np.float32):
    return (_core.NetworkF64 if dtype == np.float64 else _core.NetworkF32)(3, 0)


def _dense_attrs(**kw):
    glorot = (_core.InitKind.variance_scaling, 1.0, 0.0, _core.FanMode.fan_avg,
              _core.Distribution.uniform, 7)
    attrs = {"units": 4, "use_bias": True, "activation": (int(_core.ActKind.tanh), 0.0, math.inf, 0.0),
             "kernel_initializer": tuple(int(v) if not isinstance(v, float) else v for v in glorot),
             "bias_initializer": (int(_core.InitKind.zeros), 0.0, 0.0, 2, 2, 0)}
    attrs.update(kw)
    return attrs


@pytest.mark.parametrize("kind", [-1, len(_core.OptKind.__members__), 99, 2**40])
def test_out_of_range_optimizer_kind_raises(kind):
    net = _net()
    with pytest.raises(ValueError, match="optimizer kind"):
        net.set_optimizer({"kind": kind, "schedule": {"kind": 0, "initial": 0.1}}, True)
    with pytest.raises(ValueError, match="optimizer kind"):
        _core.OptimizerF32({"kind": kind, "schedule": {"initial": 0.1}}, 4)


def test_out_of_range_schedule_kind_raises():
    with pytest.raises(ValueError, match="schedule kind"):
        _core.schedule_value({"kind": len(_core.ScheduleKind.__members__), "initial": 0.1}, 3)


@pytest.mark.parametrize("field,value,match", [
    ("kind", 9, "initializer kind"), ("kind", -1, "initializer kind"),
    ("mode", 3, "initializer mode"), ("distribution", 3, "initializer distribution")])
def test_out_of_range_initializer_raises(field, value, match):
    spec = {"kind": int(_core.InitKind.variance_scaling), "a": 1.0, "b": 0.0, "mode": 0,
            "distribution": 0, "seed": 1}
    spec[field] = value
    with pytest.raises(ValueError, match=match):
        _core.initialize_f32(spec, 3, 4)
    net = _net()
    with pytest.raises(ValueError, match=match):
        net.add_layer("dense", _dense_attrs(kernel_initializer=spec))


def test_out_of_range_activation_and_loss_kinds_raise():
    bad_act = (len(_core.ActKind.__members__), 0.0, math.inf, 0.0)
    with pytest.raises(ValueError, match="activation kind"):
        _core.activation_forward(bad_act, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="activation kind"):
        _net().add_layer("dense", _dense_attrs(activation=bad_act))
    net = _net()
    with pytest.raises(ValueError, match="loss kind"):
        net.set_loss((len(_core.LossKind.__members__), False, 0.0, 1.0))
    with pytest.raises(ValueError, match="loss kind"):
        _core.loss_f32((-1, False, 0.0, 1.0), np.zeros((2, 1), np.float32), np.zeros((2, 1), np.float32), None)


def test_decoders_take_named_fields_and_the_engines_defaults():
    d = _core.defaults()
    assert d["optimizer"]["kind"] == int(_core.OptKind.Adam)
    assert d["optimizer"]["beta_2"] == 0.999 and d["optimizer"]["epsilon"] == 1e-7
    assert d["schedule"]["initial"] == 0.001 and d["loss"]["delta"] == 1.0
    assert d["activation"]["max_value"] == math.inf
    # a named spec with only some fields equals the positional one with the defaults filled in
    z = np.linspace(-3, 3, 13, dtype=np.float64).reshape(1, -1)
    named = _core.activation_forward({"kind": int(_core.ActKind.leaky_relu), "alpha": 0.3}, z)
    positional = _core.activation_forward((int(_core.ActKind.leaky_relu), 0.3, math.inf, 0.0), z)
    np.testing.assert_array_equal(named, positional)
    np.testing.assert_array_equal(named, np.where(z >= 0, z, 0.3 * z))
    # an optimizer config with only a kind and a schedule uses the engine's defaults
    opt = _core.OptimizerF64({"kind": int(_core.OptKind.Adam), "schedule": {"initial": 0.01}}, 2)
    p = np.array([1.0, -2.0])
    opt.step(p, np.array([0.5, -0.25]))
    # Keras Adam first step: p -= lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps)
    g = np.array([0.5, -0.25])
    m, v = 0.1 * g, 0.001 * g * g
    np.testing.assert_allclose(p, np.array([1.0, -2.0]) - 0.01 * math.sqrt(0.001) / 0.1 * m / (np.sqrt(v) + 1e-7),
                               rtol=1e-14)
    with pytest.raises(ValueError, match="spec must be"):
        _core.activation_forward((1, 0.0), z)


def test_layer_factory_builds_every_kind():
    for dtype in (np.float32, np.float64):
        net = _net(dtype)
        net.add_layer("dense", _dense_attrs(kernel_regularizer=(0.0, 0.01)))
        net.add_layer("batch_normalization", {"momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True,
                                              "initializers": [(1, 0.0, 0.0, 2, 2, 0), (0, 0.0, 0.0, 2, 2, 0),
                                                               (0, 0.0, 0.0, 2, 2, 0), (1, 0.0, 0.0, 2, 2, 0)]})
        net.add_layer("dropout", {"rate": 0.25})
        net.add_layer("activation", {"activation": {"kind": int(_core.ActKind.relu)}})
        net.add_layer("layer_normalization", {"epsilon": 1e-3, "center": False, "scale": True,
                                              "initializers": [(1, 0.0, 0.0, 2, 2, 0)]})
        net.add_layer("dense", _dense_attrs(units=2, use_bias=False, activation=None))
        net.build()
        names = [(li, name, rows, cols) for (li, name, rows, cols, _t, _v) in net.variables()]
        assert names == [(0, "kernel", 3, 4), (0, "bias", 1, 4), (1, "gamma", 1, 4), (1, "beta", 1, 4),
                         (1, "moving_mean", 1, 4), (1, "moving_variance", 1, 4), (4, "gamma", 1, 4),
                         (5, "kernel", 4, 2)]
        assert net.regularization_loss() == pytest.approx(0.01 * float(np.sum(net.get_variable(0) ** 2)))
        assert net.predict(np.ones((2, 3), dtype)).shape == (2, 2)


def test_layer_factory_rejects_bad_input():
    net = _net()
    with pytest.raises(ValueError, match="kind must be one of"):
        net.add_layer("conv2d", {})
    with pytest.raises(ValueError, match="missing attribute 'units'"):
        net.add_layer("dense", {"use_bias": True})
    with pytest.raises(ValueError, match="units must be positive"):
        net.add_layer("dense", _dense_attrs(units=0))
    with pytest.raises(ValueError, match="rate"):
        net.add_layer("dropout", {"rate": 1.0})
    with pytest.raises(ValueError, match="one initializer per variable"):
        net.add_layer("layer_normalization", {"epsilon": 1e-3, "center": True, "scale": True, "initializers": []})
    with pytest.raises(ValueError, match=r"\(l1, l2\)"):
        net.add_layer("dense", _dense_attrs(kernel_regularizer=(0.1,)))


def test_models_still_train_through_the_tables():
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([fastnn.layers.Input(shape=(3,)), fastnn.layers.Dense(4, activation="gelu"),
                           fastnn.layers.Dense(1)])
    m.compile(optimizer=fastnn.optimizers.Nadam(schedules.CosineDecay(0.01, 10)), loss="huber")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    h = m.fit(x, x[:, :1], epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
