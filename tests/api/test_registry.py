"""One registry behind every family's get / serialize / deserialize, and the number validators."""

import math
import re

import numpy as np
import pytest

import fastnn
from fastnn import _validation as V
from fastnn import activations, initializers, losses, metrics, optimizers, regularizers, schedules
from fastnn._registry import Registry

FAMILIES = [
    (activations, "activation", "relu"),
    (losses, "loss", "mean_squared_error"),
    (optimizers, "optimizer", "adam"),
    (initializers, "initializer", "glorot_uniform"),
    (regularizers, "regularizer", "l2"),
    (metrics, "metric", "binary_accuracy"),
]


@pytest.mark.parametrize("module, family, valid", FAMILIES, ids=[f[1] for f in FAMILIES])
def test_unknown_name_lists_every_valid_name(module, family, valid):
    with pytest.raises(ValueError) as info:
        module.get("no_such_thing")
    msg = str(info.value)
    assert msg.startswith(f"{family}: unknown name 'no_such_thing'; valid names are: ")
    listed = module._REGISTRY.names()
    assert valid in listed
    for name in listed:
        assert re.search(r"\b" + re.escape(name) + r"\b", msg), name
        module.get(name)  # every listed name resolves


@pytest.mark.parametrize("module, family, valid", FAMILIES, ids=[f[1] for f in FAMILIES])
def test_names_are_case_insensitive_and_class_names_work(module, family, valid):
    a = module.get(valid)
    b = module.get(valid.upper())
    assert type(a) is type(b)
    if family != "activation":
        assert type(module.get(type(a).__name__)) is type(a)


@pytest.mark.parametrize("module", [losses, optimizers, initializers, regularizers, metrics],
                         ids=["loss", "optimizer", "initializer", "regularizer", "metric"])
def test_serialize_deserialize_round_trip(module):
    for name in module._REGISTRY.names():
        obj = module.get(name)
        config = module.serialize(obj)
        assert set(config) == {"class_name", "config"} and config["class_name"] == type(obj).__name__
        again = module.deserialize(config)
        assert type(again) is type(obj) and module.serialize(again) == config
        assert type(module.get(config)) is type(obj)


def test_deserialize_errors_name_the_family():
    with pytest.raises(ValueError, match=r"optimizer: unknown class 'Adamm'; valid classes are: .*Adam\b"):
        optimizers.deserialize({"class_name": "Adamm", "config": {}})
    with pytest.raises(TypeError, match=r"loss: expected 'config' to be a dict, got list"):
        losses.deserialize({"class_name": "Huber", "config": [1]})
    with pytest.raises(TypeError, match=r"initializer: expected a dict"):
        initializers.deserialize("zeros")
    with pytest.raises(ValueError, match=r"learning rate schedule: unknown class 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    assert regularizers.deserialize(None) is None
    assert activations.deserialize({"name": "leaky_relu", "negative_slope": 0.1}).spec()[1] == 0.1
    assert activations.deserialize("swish").name == "silu"
    # a loss config without a "config" key: the other keys are the configuration (as before)
    assert losses.get({"class_name": "Huber", "delta": 2.0}).delta == 2.0


def test_schedule_round_trip_through_optimizer():
    sched = schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=10)
    opt = optimizers.deserialize(optimizers.serialize(optimizers.Adam(learning_rate=sched)))
    assert schedules.serialize(opt._learning_rate) == schedules.serialize(sched)


def test_registry_mapping_reads():
    r = Registry("thing")
    r.register(int, "integer")
    assert "INTEGER" in r and r["int"] is int and r.get("nope") is None and r.get(3) is None
    with pytest.raises(KeyError):
        r["nope"]
    assert r.names() == ["integer"]


# ---------------------------------------------------------------------------------------------
# Number validators
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check, good, bad, expected", [
    (V.positive_int, [1, 7, np.int64(3)], [0, -1, 2.5, "3", True, None], "a positive int"),
    (V.nonneg_int, [0, 5], [-1, 1.0, False, None], "a non-negative int"),
    (V.finite_float, [0, -2.5, 1e300], [math.nan, math.inf, -math.inf, "1", None, True], "a finite number"),
    (V.nonneg_float, [0, 0.5, 3], [-1e-9, math.nan, math.inf, None], "a non-negative number"),
    (V.positive_float, [1e-12, 2], [0, -1, math.nan, math.inf], "a positive number"),
    (V.probability, [0, 0.5, 0.999], [1, 1.5, -0.1, math.nan], r"a number in [0, 1)"),
])
def test_validators(check, good, bad, expected):
    for v in good:
        out = check("arg", v)
        assert out == v and type(out) in (int, float)
    for v in bad:
        with pytest.raises(ValueError) as info:
            check("arg", v)
        assert str(info.value) == f"arg: expected {expected}, got {v!r}"


def test_validators_with_bounds_and_none():
    assert V.positive_int("n", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"^n: expected a positive int <= 10 or None, got 11$"):
        V.positive_int("n", 11, allow_none=True, maximum=10)
    with pytest.raises(ValueError, match=r"^n: expected an int in \[2, 5\], got 6$"):
        V.int_in_range("n", 6, 2, 5)
    assert V.probability("p", 1.0, closed_right=True) == 1.0
    with pytest.raises(ValueError, match=r"^x: expected a number in \(0, 1\], got 0$"):
        V.float_in_range("x", 0, 0, 1, low_open=True)
    with pytest.raises(ValueError, match=r"^mode: expected one of 'a', 'b', got 'c'$"):
        V.one_of("mode", "c", ("a", "b"))


def test_regularizer_factors_use_the_validators():
    with pytest.raises(ValueError, match=r"^l2: expected a non-negative number, got nan$"):
        regularizers.L2(float("nan"))
    with pytest.raises(ValueError, match=r"^l1: expected a non-negative number, got -1$"):
        fastnn.regularizers.L1L2(l1=-1)
