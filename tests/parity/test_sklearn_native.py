"""fastnn.sklearn's native epochs (one engine call per epoch) against scikit-learn's own optimizers and
MLPs, and against fastnn.sklearn's per-batch Python loop.

The native path computes each batch's objective in the engine (loss and L2 term divided by the
batch's weight sum) and updates with scikit-learn's SGD and Adam formulas; the Python loop does the
same in numpy. Both must follow scikit-learn, and each other to 1e-12 (relative): only the order of a
few float64 sums differs (the weight sum, the squared norm of the kernels).
"""
import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", minversion="1.6")

from sklearn import datasets  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor  # noqa: E402
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer  # noqa: E402

from fastnn import _core  # noqa: E402
import fastnn.sklearn as fsk  # noqa: E402
from fastnn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_KIND = _core.OptKind.__members__
_CONSTANT = int(_core.ScheduleKind.__members__["Constant"])


def _steps(native_config, reference, n=40, steps=25, seed=0):
    """The same gradients through fastnn's standalone optimizer and scikit-learn's optimizer."""
    rng = np.random.default_rng(seed)
    p0 = rng.normal(size=n)
    ours, theirs = p0.copy(), [p0.copy()]
    native = _core.OptimizerF64(native_config, n)
    ref = reference(theirs)
    for _ in range(steps):
        g = rng.normal(size=n) * rng.choice([1e-6, 1.0, 30.0], size=n)
        native.step(ours, g)
        ref.update_params(theirs, [g.copy()])
    return ours, theirs[0]


@pytest.mark.parametrize("beta_1, beta_2, eps", [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3)])
def test_adam_sklearn_moments_is_sklearns_adam_bit_for_bit(beta_1, beta_2, eps):
    cfg = {"kind": int(_KIND["Adam"]), "schedule": {"kind": _CONSTANT, "initial": 0.01},
           "beta_1": beta_1, "beta_2": beta_2, "epsilon": eps, "sklearn_moments": True}
    ours, theirs = _steps(cfg, lambda p: AdamOptimizer(p, 0.01, beta_1, beta_2, eps))
    np.testing.assert_array_equal(ours, theirs)
    # Keras's moment form is the same update to rounding, not to the bit: the variant is what matters.
    keras, _ = _steps({**cfg, "sklearn_moments": False}, lambda p: AdamOptimizer(p, 0.01, beta_1, beta_2, eps))
    np.testing.assert_allclose(keras, theirs, rtol=1e-9)
    assert not np.array_equal(keras, theirs)


@pytest.mark.parametrize("momentum, nesterov", [(0.9, True), (0.5, False), (0.0, True)])
def test_engine_sgd_is_sklearns_sgd_bit_for_bit(momentum, nesterov):
    cfg = {"kind": int(_KIND["SGD"]), "schedule": {"kind": _CONSTANT, "initial": 0.05},
           "momentum": momentum, "nesterov": nesterov}
    ours, theirs = _steps(cfg, lambda p: SGDOptimizer(p, 0.05, momentum=momentum, nesterov=nesterov))
    np.testing.assert_array_equal(ours, theirs)


def test_set_objective_checks_its_arguments():
    net = _core.NetworkF64(3)
    with pytest.raises(ValueError, match="loss_scale"):
        net.set_objective(True, 0.0, 1.0)
    with pytest.raises(ValueError, match="report_scale"):
        net.set_objective(True, 1.0, float("nan"))


# ------------------------------------------------------------------------------ native vs Python loop
def _both_paths(monkeypatch, make, fit):
    """(native fit, Python-loop fit, native epochs run)."""
    calls = []
    epoch = fsk._NativeEpochs.epoch

    def counted(self, theta, index):
        calls.append(1)
        return epoch(self, theta, index)

    monkeypatch.setattr(fsk._NativeEpochs, "epoch", counted)
    native = fit(make())
    monkeypatch.setattr(fsk, "_NATIVE_EPOCHS", False)
    n_native = len(calls)
    loop = fit(make())
    assert len(calls) == n_native
    monkeypatch.setattr(fsk, "_NATIVE_EPOCHS", True)
    return native, loop, n_native


def _assert_close(a, b, rtol=1e-12, atol=1e-14):
    assert a.n_iter_ == b.n_iter_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=atol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)


def _digits(n=500):
    X, y = datasets.load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


@pytest.mark.parametrize("params", [
    dict(solver="adam", alpha=0.05, batch_size=64),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1, batch_size=77),
    dict(solver="sgd", learning_rate="adaptive", momentum=0.0, n_iter_no_change=2, tol=0.5),
    dict(solver="sgd", nesterovs_momentum=False, momentum=0.5, shuffle=False),
    dict(solver="adam", early_stopping=True, validation_fraction=0.2, beta_1=0.5, epsilon=1e-4),
])
def test_native_epochs_follow_python_loop_and_sklearn(monkeypatch, params):
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(20, 12), random_state=5, max_iter=12, **params)
    native, loop, runs = _both_paths(monkeypatch, lambda: MLPClassifier(**kw), lambda m: m.fit(X, y))
    assert runs == native.n_iter_
    _assert_close(native, loop)
    _assert_close(native, SkClassifier(**kw).fit(X, y), rtol=1e-9, atol=1e-12)


def test_native_epochs_with_sample_weights_and_an_empty_batch(monkeypatch):
    X, y = _digits(300)
    sw = np.random.default_rng(1).random(len(y)) * 3
    sw[100:150] = 0.0          # with shuffle=False, batch_size=50: the third batch weighs nothing
    kw = dict(hidden_layer_sizes=(16,), random_state=0, max_iter=6, batch_size=50, shuffle=False, alpha=0.01)
    native, loop, runs = _both_paths(monkeypatch, lambda: MLPClassifier(**kw),
                                     lambda m: m.fit(X, y, sample_weight=sw))
    assert runs == 6
    _assert_close(native, loop)
    sw[100:150] = 1e-300       # scikit-learn divides by zero on an empty batch; a tiny one changes ~nothing
    kw["shuffle"] = True
    native, loop, _ = _both_paths(monkeypatch, lambda: MLPClassifier(**kw), lambda m: m.fit(X, y, sample_weight=sw))
    _assert_close(native, loop)
    _assert_close(native, SkClassifier(**kw).fit(X, y, sample_weight=sw), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("target", ["multilabel", "regression2"])
def test_native_epochs_scale_logistic_and_squared_losses(monkeypatch, target):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    if target == "multilabel":
        Y, Ours, Ref = np.stack([y, (X[:, 0] > 0), (X[:, 1] > 0.5)], axis=1).astype(int), MLPClassifier, SkClassifier
    else:
        Y, Ours, Ref = np.stack([X[:, 2] * X[:, 3], np.sin(X[:, 4])], axis=1), MLPRegressor, SkRegressor
    kw = dict(hidden_layer_sizes=(12,), random_state=2, max_iter=7, solver="adam", alpha=0.02)
    native, loop, runs = _both_paths(monkeypatch, lambda: Ours(**kw), lambda m: m.fit(X, Y))
    assert runs == 7
    _assert_close(native, loop)
    _assert_close(native, Ref(**kw).fit(X, Y), rtol=1e-9, atol=1e-12)


def test_partial_fit_and_pickling_continue_the_native_state(monkeypatch):
    X, y = _digits(400)
    classes = np.unique(y)
    kw = dict(hidden_layer_sizes=(16,), random_state=0, solver="adam", batch_size=50)
    ours, ref = MLPClassifier(**kw), SkClassifier(**kw)
    for i in range(4):
        rows = slice(100 * i, 100 * i + 100)
        ours.partial_fit(X[rows], y[rows], classes=classes)
        ref.partial_fit(X[rows], y[rows], classes=classes)
        if i == 1:
            ours = pickle.loads(pickle.dumps(ours))   # the state is in the Python optimizer: it travels
    for p, q in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)
    assert ours._optimizer.t == ref._optimizer.t == 8
    # warm_start with the Python loop continues from the state the native epochs left
    a = MLPClassifier(warm_start=True, max_iter=3, **kw).fit(X, y)
    monkeypatch.setattr(fsk, "_NATIVE_EPOCHS", False)
    a.fit(X, y)
    monkeypatch.setattr(fsk, "_NATIVE_EPOCHS", True)
    b = MLPClassifier(warm_start=True, max_iter=3, **kw).fit(X, y).fit(X, y)
    _assert_close(a, b)
