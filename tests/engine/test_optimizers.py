"""Optimizers and learning-rate schedules of the native engine against float64 numpy implementations
of Keras 3's formulas (the keras_ref_optimizer fixture), Keras's schedules and PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastnn
from fastnn import _core, layers
from fastnn import optimizers as O
from fastnn import schedules as S

NPARAM = 37
STEPS = 25

# id -> (fastnn optimizer factory, reference kind, reference kwargs, gradient scale)
OPTS = {
    "sgd": (lambda **k: O.SGD(0.05, **k), "sgd", dict(learning_rate=0.05), 1.0),
    "sgd_momentum": (lambda **k: O.SGD(0.05, momentum=0.9, **k), "sgd",
                     dict(learning_rate=0.05, momentum=0.9), 1.0),
    "sgd_nesterov": (lambda **k: O.SGD(0.05, momentum=0.8, nesterov=True, **k), "sgd",
                     dict(learning_rate=0.05, momentum=0.8, nesterov=True), 1.0),
    "adam": (lambda **k: O.Adam(0.01, **k), "adam", dict(learning_rate=0.01), 1.0),
    "adam_args": (lambda **k: O.Adam(0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-4, **k), "adam",
                  dict(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-4), 0.01),
    "adam_amsgrad": (lambda **k: O.Adam(0.01, amsgrad=True, **k), "adam",
                     dict(learning_rate=0.01, amsgrad=True), 1.0),
    "adamw": (lambda **k: O.AdamW(0.01, **k), "adamw", dict(learning_rate=0.01), 1.0),
    "adamw_amsgrad": (lambda **k: O.AdamW(0.01, amsgrad=True, **{"weight_decay": 0.1, **k}), "adamw",
                      dict(learning_rate=0.01, amsgrad=True), 1.0),
    "rmsprop": (lambda **k: O.RMSprop(0.01, **k), "rmsprop", dict(learning_rate=0.01), 1.0),
    "rmsprop_momentum": (lambda **k: O.RMSprop(0.01, momentum=0.9, **k), "rmsprop",
                         dict(learning_rate=0.01, momentum=0.9), 1.0),
    "rmsprop_centered": (lambda **k: O.RMSprop(0.01, centered=True, rho=0.8, **k), "rmsprop",
                         dict(learning_rate=0.01, centered=True, rho=0.8), 1.0),
    "rmsprop_centered_momentum": (lambda **k: O.RMSprop(0.01, momentum=0.5, centered=True, **k), "rmsprop",
                                  dict(learning_rate=0.01, momentum=0.5, centered=True), 1.0),
    "adagrad": (lambda **k: O.Adagrad(0.05, **k), "adagrad", dict(learning_rate=0.05), 1.0),
    "adagrad_init": (lambda **k: O.Adagrad(0.05, initial_accumulator_value=0.5, epsilon=1e-3, **k), "adagrad",
                     dict(learning_rate=0.05, initial_accumulator_value=0.5, epsilon=1e-3), 1.0),
    "adadelta": (lambda **k: O.Adadelta(1.0, **k), "adadelta", dict(learning_rate=1.0), 1.0),
    "adadelta_rho": (lambda **k: O.Adadelta(0.5, rho=0.8, epsilon=1e-5, **k), "adadelta",
                     dict(learning_rate=0.5, rho=0.8, epsilon=1e-5), 1.0),
    "adamax": (lambda **k: O.Adamax(0.01, **k), "adamax", dict(learning_rate=0.01), 1.0),
    "nadam": (lambda **k: O.Nadam(0.01, **k), "nadam", dict(learning_rate=0.01), 1.0),
    "nadam_args": (lambda **k: O.Nadam(0.02, beta_1=0.85, beta_2=0.98, **k), "nadam",
                   dict(learning_rate=0.02, beta_1=0.85, beta_2=0.98), 1.0),
    "lion": (lambda **k: O.Lion(0.01, **k), "lion", dict(learning_rate=0.01), 1.0),
    "lion_args": (lambda **k: O.Lion(0.003, beta_1=0.7, beta_2=0.95, **k), "lion",
                  dict(learning_rate=0.003, beta_1=0.7, beta_2=0.95), 1.0),
}


def _run(opt, kind, ref_kw, gscale, dtype, ref_cls, steps=STEPS, seed=0, opt_kw=None, ref_extra=None,
         grad_fn=None):
    """Runs the native optimizer and the reference side by side; returns (native, reference) params."""
    rng = np.random.default_rng(seed)
    p0 = rng.normal(0, 1, NPARAM).astype(dtype)
    native = (_core.OptimizerF64 if dtype == np.float64 else _core.OptimizerF32)(opt.native_config(), NPARAM)
    p = p0.copy()
    ref = ref_cls(kind, [(NPARAM,)], **(ref_extra or {}), **ref_kw)
    q = [p0.astype(np.float64)]
    for t in range(steps):
        g = (grad_fn(t, rng) if grad_fn else rng.normal(0, gscale, NPARAM)).astype(dtype)
        native.step(p, g)
        ref.step(q, [g.astype(np.float64)])
    assert native.iterations == steps
    return p, q[0], p0


def _check(p, q, p0, dtype):
    if dtype == np.float64:
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-13)
    else:
        scale = max(1e-3, float(np.abs(q - p0).max()))
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=5e-4 * scale)
    assert not np.allclose(p, p0)  # the parameters moved


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTS))
def test_optimizer_matches_keras_formulas(name, dtype, keras_ref_optimizer):
    make, kind, kw, gs = OPTS[name]
    opt = make()
    extra = {}
    if name == "adamw_amsgrad":
        extra["weight_decay"] = 0.1
    p, q, p0 = _run(opt, kind, kw, gs, dtype, keras_ref_optimizer, ref_extra=extra)
    _check(p, q, p0, dtype)


@pytest.mark.parametrize("name", sorted(OPTS))
def test_weight_decay(name, keras_ref_optimizer):
    make, kind, kw, gs = OPTS[name]
    p, q, p0 = _run(make(weight_decay=0.05), kind, kw, gs, np.float64, keras_ref_optimizer,
                    ref_extra=dict(weight_decay=0.05))
    _check(p, q, p0, np.float64)
    # and the decay made a difference
    p_nowd, _, _ = _run(make(weight_decay=0.0), kind, kw, gs, np.float64, keras_ref_optimizer,
                        ref_extra=dict(weight_decay=0.0))
    assert not np.allclose(p, p_nowd)


def test_weight_decay_is_decoupled_and_first():
    """With a zero gradient, SGD with weight decay only shrinks: p_t = p_0 (1 - wd lr)^t."""
    opt = O.SGD(0.1, weight_decay=0.5)
    native = _core.OptimizerF64(opt.native_config(), 4)
    p = np.array([1.0, -2.0, 3.0, 0.5])
    for _ in range(3):
        native.step(p, np.zeros(4))
    np.testing.assert_allclose(p, np.array([1.0, -2.0, 3.0, 0.5]) * (1 - 0.05) ** 3, rtol=1e-15)


CLIPS = {"clipnorm": 0.5, "clipvalue": 0.3, "global_clipnorm": 0.7}


@pytest.mark.parametrize("clip", sorted(CLIPS))
@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "adam", "rmsprop", "lion", "adagrad"])
def test_gradient_clipping(name, clip, keras_ref_optimizer):
    make, kind, kw, gs = OPTS[name]
    cfg = {clip: CLIPS[clip]}
    # gradients that are sometimes above and sometimes below the clip threshold
    grad_fn = lambda t, rng: rng.normal(0, 0.02 if t % 3 == 0 else 1.0, NPARAM)  # noqa: E731
    p, q, p0 = _run(make(**cfg), kind, kw, gs, np.float64, keras_ref_optimizer, ref_extra=cfg, grad_fn=grad_fn)
    _check(p, q, p0, np.float64)
    p_free, _, _ = _run(make(), kind, kw, gs, np.float64, keras_ref_optimizer, grad_fn=grad_fn)
    if name != "lion":  # Lion only uses the sign of the momentum; clipping can leave it unchanged
        assert not np.allclose(p, p_free)


def test_sgd_clipvalue_step_is_exact():
    native = _core.OptimizerF64(O.SGD(1.0, clipvalue=0.25).native_config(), 4)
    p = np.zeros(4)
    native.step(p, np.array([1.0, -0.1, -3.0, 0.25]))
    np.testing.assert_array_equal(p, [-0.25, 0.1, 0.25, -0.25])


def _two_layer_model(opt, seed=0):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(5, activation="tanh"), layers.Dense(3)],
                          dtype="float64")
    opt.build(m.parameters())
    return m


def _manual_step(model, opt, x, y):
    opt.zero_grad()
    out = model(x, training=True)
    fastnn.losses.MeanSquaredError()(y, out).backward()
    grads = [w.grad.copy() for w in model.weights]
    before = model.get_weights()
    opt.step()
    return grads, [b - a for b, a in zip(before, model.get_weights())]


def test_clipnorm_is_per_variable_in_a_model():
    opt = O.SGD(1.0, clipnorm=0.01)
    m = _two_layer_model(opt)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 3)) * 5
    grads, deltas = _manual_step(m, opt, x, y)
    for g, d in zip(grads, deltas):
        assert np.linalg.norm(g) > 0.01
        np.testing.assert_allclose(d, g * 0.01 / np.linalg.norm(g), rtol=1e-12, atol=1e-16)
        assert np.linalg.norm(d) == pytest.approx(0.01, rel=1e-12)


def test_global_clipnorm_in_a_model_skips_frozen_layers():
    opt = O.SGD(1.0, global_clipnorm=0.01)
    m = _two_layer_model(opt)
    m.layers[0].trainable = False
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 3)) * 5
    grads, deltas = _manual_step(m, opt, x, y)
    assert np.all(deltas[0] == 0) and np.all(deltas[1] == 0)  # frozen
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads[2:]))
    assert total > 0.01
    for g, d in zip(grads[2:], deltas[2:]):
        np.testing.assert_allclose(d, g * 0.01 / total, rtol=1e-12, atol=1e-16)


# ------------------------------------------------------------------------------------------------
# learning-rate schedules
# ------------------------------------------------------------------------------------------------
def _exp(init, ds, rate, stair):
    return lambda s: init * rate ** (math.floor(s / ds) if stair else s / ds)


def _piecewise(bounds, values):
    def f(s):
        for b, v in zip(bounds, values):
            if s <= b:
                return v
        return values[-1]
    return f


def _poly(init, ds, end, power, cycle):
    def f(s):
        d = ds
        if cycle:
            d = ds * (1.0 if s == 0 else math.ceil(s / ds))
        else:
            s = min(s, ds)
        return (init - end) * (1 - s / d) ** power + end
    return f


def _inv(init, ds, rate, stair):
    return lambda s: init / (1 + rate * (math.floor(s / ds) if stair else s / ds))


def _cos(init, ds, alpha, target=None, warm=0):
    def decay(s, base):
        return base * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / ds)) + alpha)

    def f(s):
        if target is None:
            return decay(min(s, ds), init)
        s = min(s, ds + warm)
        if s < warm:
            return init + (target - init) * s / warm
        return decay(s - warm, target)
    return f


def _restarts(init, first, t_mul, m_mul, alpha):
    def f(s):
        # walk the periods: period i lasts first * t_mul^i steps and peaks at init * m_mul^i
        start, length, i = 0.0, float(first), 0
        while s >= start + length:
            start += length
            length *= t_mul
            i += 1
        frac = (s - start) / length
        return init * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * frac)) + alpha)
    return f


SCHEDULES = {
    "exponential": (S.ExponentialDecay(0.1, 7, 0.5), _exp(0.1, 7, 0.5, False),
                    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5))),
    "exponential_staircase": (S.ExponentialDecay(0.1, 7, 0.5, staircase=True), _exp(0.1, 7, 0.5, True),
                              ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5,
                                                        staircase=True))),
    "piecewise": (S.PiecewiseConstantDecay([5, 12], [1.0, 0.5, 0.1]), _piecewise([5, 12], [1.0, 0.5, 0.1]),
                  ("PiecewiseConstantDecay", dict(boundaries=[5, 12], values=[1.0, 0.5, 0.1]))),
    "polynomial": (S.PolynomialDecay(0.1, 10, 0.01, power=2.0), _poly(0.1, 10, 0.01, 2.0, False),
                   ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=0.01,
                                            power=2.0))),
    "polynomial_cycle": (S.PolynomialDecay(0.1, 10, 0.01, power=0.5, cycle=True), _poly(0.1, 10, 0.01, 0.5, True),
                         ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=0.01,
                                                  power=0.5, cycle=True))),
    "inverse_time": (S.InverseTimeDecay(0.1, 5, 0.5), _inv(0.1, 5, 0.5, False),
                     ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5))),
    "inverse_time_staircase": (S.InverseTimeDecay(0.1, 5, 0.5, staircase=True), _inv(0.1, 5, 0.5, True),
                               ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5,
                                                         staircase=True))),
    "cosine": (S.CosineDecay(0.1, 20, alpha=0.1), _cos(0.1, 20, 0.1),
               ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=20, alpha=0.1))),
    "cosine_warmup": (S.CosineDecay(0.01, 20, alpha=0.05, warmup_target=0.2, warmup_steps=6),
                      _cos(0.01, 20, 0.05, 0.2, 6),
                      ("CosineDecay", dict(initial_learning_rate=0.01, decay_steps=20, alpha=0.05, warmup_target=0.2,
                                           warmup_steps=6))),
    "cosine_restarts": (S.CosineDecayRestarts(0.1, 5, t_mul=2.0, m_mul=0.8, alpha=0.05),
                        _restarts(0.1, 5, 2.0, 0.8, 0.05),
                        ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=5, t_mul=2.0,
                                                     m_mul=0.8, alpha=0.05))),
    "cosine_restarts_tmul1": (S.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.5), _restarts(0.1, 4, 1.0, 0.5, 0.0),
                              ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4, t_mul=1.0,
                                                           m_mul=0.5))),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_values(name):
    sched, ref, _ = SCHEDULES[name]
    got = [sched(s) for s in range(41)]
    want = [ref(s) for s in range(41)]
    for s in range(41):  # includes the steps exactly at a restart
        assert got[s] == pytest.approx(want[s], rel=1e-12, abs=1e-15), s
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    assert len(set(np.round(got, 12))) > 2  # it changes
    assert _core.schedule_value(sched.native(), 17) == got[17]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2 notices from Keras
def test_schedules_match_keras(keras_module):
    ks = keras_module.optimizers.schedules
    for name, (sched, _ref, (cls_name, kw)) in sorted(SCHEDULES.items()):
        kfn = getattr(ks, cls_name)(**kw)
        for s in range(41):
            want = float(keras_module.ops.convert_to_numpy(kfn(s)))
            assert sched(s) == pytest.approx(want, rel=1e-5, abs=1e-8), (name, s)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_schedule_drives_the_step_size(dtype):
    sched = S.ExponentialDecay(0.1, 2, 0.5, staircase=True)
    opt = O.SGD(learning_rate=sched)
    native = (_core.OptimizerF64 if dtype == np.float64 else _core.OptimizerF32)(opt.native_config(), 3)
    p = np.zeros(3, dtype=dtype)
    g = np.array([1.0, -2.0, 0.5], dtype=dtype)
    steps = []
    for t in range(7):
        assert native.current_learning_rate() == pytest.approx(sched(t), rel=1e-15)
        before = p.copy()
        native.step(p, g)
        steps.append((before - p) / g)
    np.testing.assert_allclose(np.array(steps), np.array([[sched(t)] * 3 for t in range(7)]),
                               rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert steps[0][0] == pytest.approx(0.1, rel=1e-6) and steps[6][0] == pytest.approx(0.0125, rel=1e-6)


def test_schedule_with_adam_matches_reference(keras_ref_optimizer):
    sched = S.CosineDecay(0.001, 15, alpha=0.1, warmup_target=0.05, warmup_steps=5)
    p, q, p0 = _run(O.Adam(sched), "adam", dict(learning_rate=sched), 1.0, np.float64, keras_ref_optimizer)
    _check(p, q, p0, np.float64)


def test_model_learning_rate_follows_schedule():
    sched = S.InverseTimeDecay(0.05, 3, 1.0)
    opt = O.SGD(sched)
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    m.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(0)
    m.fit(rng.normal(size=(40, 3)), rng.normal(size=40), batch_size=8, epochs=2, verbose=0)
    assert opt.iterations == 10
    assert opt.learning_rate == pytest.approx(sched(10), rel=1e-6)
    assert opt.learning_rate == pytest.approx(0.05 / (1 + 10 / 3), rel=1e-6)


# ------------------------------------------------------------------------------------------------
# PyTorch: where the formulas agree and where they differ
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def _torch1(torch_one_thread):
    return torch_one_thread


def _torch_run(torch_opt_cls, kw, grads, p0):
    torch = pytest.importorskip("torch")
    w = torch.nn.Parameter(torch.tensor(p0, dtype=torch.float64))
    opt = torch_opt_cls([w], **kw)
    for g in grads:
        opt.zero_grad()
        w.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return w.detach().numpy().copy()


def _native_run(opt, grads, p0):
    native = _core.OptimizerF64(opt.native_config(), p0.size)
    p = p0.copy()
    for g in grads:
        native.step(p, g)
    return p


def _grads(n=20, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    # nonzero everywhere (torch with eps = 0 would divide by zero on a zero gradient)
    return [np.sign(a) * (np.abs(a) + 0.1) * scale for a in rng.normal(0, 1, (n, NPARAM))]


@pytest.mark.usefixtures("_torch1")
def test_adam_matches_torch_without_epsilon():
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(1).normal(size=NPARAM)
    grads = _grads()
    ours = _native_run(O.Adam(0.01, epsilon=0.0), grads, p0)
    theirs = _torch_run(torch.optim.Adam, dict(lr=0.01, eps=0.0), grads, p0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    ours_ams = _native_run(O.Adam(0.01, epsilon=0.0, amsgrad=True), grads, p0)
    theirs_ams = _torch_run(torch.optim.Adam, dict(lr=0.01, eps=0.0, amsgrad=True), grads, p0)
    np.testing.assert_allclose(ours_ams, theirs_ams, rtol=1e-12, atol=1e-14)


@pytest.mark.usefixtures("_torch1")
def test_adam_epsilon_placement_differs_from_torch(keras_ref_optimizer):
    """Keras (and fastnn) add epsilon to sqrt(v) after folding the bias correction into the step size;
    PyTorch adds it to sqrt(v_hat). With small gradients the difference is visible."""
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(2).normal(size=NPARAM)
    grads = _grads(scale=1e-3)
    ours = _native_run(O.Adam(0.01, epsilon=1e-3), grads, p0)
    theirs = _torch_run(torch.optim.Adam, dict(lr=0.01, eps=1e-3), grads, p0)
    ref = keras_ref_optimizer("adam", [(NPARAM,)], learning_rate=0.01, epsilon=1e-3)
    q = [p0.copy()]
    for g in grads:
        ref.step(q, [g])
    np.testing.assert_allclose(ours, q[0], rtol=1e-12, atol=1e-14)
    assert np.max(np.abs((ours - p0) - (theirs - p0))) > 1e-3 * np.max(np.abs(theirs - p0))
    # PyTorch's form: p -= lr * m_hat / (sqrt(v_hat) + eps), checked here in numpy
    m = np.zeros(NPARAM)
    v = np.zeros(NPARAM)
    p = p0.copy()
    for t, g in enumerate(grads, 1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-3)
    np.testing.assert_allclose(theirs, p, rtol=1e-12, atol=1e-14)


@pytest.mark.usefixtures("_torch1")
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_torch(nesterov):
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(3).normal(size=NPARAM)
    grads = _grads(seed=4)
    ours = _native_run(O.SGD(0.03, momentum=0.9, nesterov=nesterov), grads, p0)
    theirs = _torch_run(torch.optim.SGD, dict(lr=0.03, momentum=0.9, nesterov=nesterov), grads, p0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


# ------------------------------------------------------------------------------------------------
# Keras itself
# ------------------------------------------------------------------------------------------------
KERAS_OPTS = {
    "SGD": dict(learning_rate=0.05, momentum=0.9, nesterov=True),
    "Adam": dict(learning_rate=0.01, amsgrad=True),
    "AdamW": dict(learning_rate=0.01),
    "RMSprop": dict(learning_rate=0.01, momentum=0.5, centered=True),
    "Adagrad": dict(learning_rate=0.05),
    "Adadelta": dict(learning_rate=1.0),
    "Adamax": dict(learning_rate=0.01),
    "Nadam": dict(learning_rate=0.01),
    "Lion": dict(learning_rate=0.01),
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2 notices from Keras
def test_optimizers_match_keras(keras_module):
    """20 float32 steps of each optimizer (with weight decay and clipnorm) next to Keras's own."""
    keras = keras_module
    rng = np.random.default_rng(0)
    for name, kw in sorted(KERAS_OPTS.items()):
        extra = dict(weight_decay=0.02, clipnorm=2.0)
        p0 = rng.normal(size=NPARAM).astype(np.float32)
        var = keras.Variable(p0.copy())
        kopt = getattr(keras.optimizers, name)(**kw, **extra)
        native = _core.OptimizerF32(getattr(O, name)(**kw, **extra).native_config(), NPARAM)
        p = p0.copy()
        for _ in range(20):
            g = rng.normal(0, 0.6, NPARAM).astype(np.float32)
            kopt.apply([keras.ops.convert_to_tensor(g)], [var])
            native.step(p, g)
        want = keras.ops.convert_to_numpy(var.value)
        moved = float(np.abs(want - p0).max())
        assert moved > 1e-2, name
        np.testing.assert_allclose(p, want, rtol=1e-5, atol=1e-4 * moved, err_msg=name)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2 notices from Keras
def test_defaults_match_keras(keras_module):
    keys = ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho",
            "centered", "initial_accumulator_value", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
    for name in KERAS_OPTS:
        ours = getattr(O, name)().get_config()
        theirs = getattr(keras_module.optimizers, name)().get_config()
        for k in keys:
            if k in theirs or k in ours:
                a, b = ours.get(k), theirs.get(k)
                if isinstance(b, float):
                    assert a == pytest.approx(b, rel=1e-6), (name, k)
                else:
                    assert a == b, (name, k)
