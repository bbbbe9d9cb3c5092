"""Shared fixtures and helpers of the fastnn test suite.

Tests live in tier folders (engine, api, saving, system, parity); each test gets its tier's marker.

Helpers are exposed as fixtures (tests never import this file):

* ``keras_module``: the installed Keras 3, or a skip. When Keras is not imported yet and no backend
  is chosen, the torch backend is used (it loads much faster than TensorFlow); comparisons with
  Keras only use backend-independent parts (losses, schedules, activations).
* ``keras_ref_optimizer``: a float64 numpy implementation of Keras 3's optimizer updates, written
  from Keras's formulas, used as the reference for fastnn's native optimizers.
* ``numeric_grad``: central finite differences of a scalar function of an array.
* ``restore_threads``: puts fastnn's thread count back after a test that changes it.
* ``torch_one_thread``: runs a module's PyTorch code on one thread (restored afterwards).
"""
from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import pytest


# --------------------------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------------------------
def _import_keras():
    if "keras" not in sys.modules and "KERAS_BACKEND" not in os.environ:
        if importlib.util.find_spec("torch") is not None:
            os.environ["KERAS_BACKEND"] = "torch"
            try:
                return pytest.importorskip("keras")
            finally:
                del os.environ["KERAS_BACKEND"]
    return pytest.importorskip("keras")


@pytest.fixture(scope="session")
def keras_module():
    keras = _import_keras()
    if not hasattr(keras, "losses") or int(keras.__version__.split(".")[0]) < 3:
        pytest.skip("Keras 3 is required for the comparison")
    return keras


# --------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------
def _numeric_grad(f, x, h=1e-6, relative=True):
    """Central differences of the scalar f at the float64 array x (x is restored afterwards).
    With relative=True the step of each entry is h * max(1, |x_i|)."""
    x = np.asarray(x)
    g = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        step = h * max(1.0, abs(float(old))) if relative else h
        flat[i] = old + step
        fp = float(f(x))
        flat[i] = old - step
        fm = float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2.0 * step)
    return g


@pytest.fixture(scope="session")
def numeric_grad():
    return _numeric_grad


# --------------------------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------------------------
@pytest.fixture
def restore_threads():
    import fastnn

    before = fastnn.get_num_threads()
    yield before
    fastnn.set_num_threads(before)


@pytest.fixture(scope="module")
def torch_one_thread():
    """PyTorch on one intra-op thread for the module (tiny tensors: threads only add contention with
    fastnn's pool on a small machine); the previous setting is restored afterwards."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------
# reference optimizers (Keras 3 formulas, float64 numpy)
# --------------------------------------------------------------------------------------------
class KerasOptimizerRef:
    """Keras 3 optimizer updates over a list of float64 numpy variables.

    Order of one step, as Keras's BaseOptimizer.apply: clip the gradients (clipnorm per variable,
    or global_clipnorm, or clipvalue) -> learning rate = schedule(iterations) -> decoupled weight
    decay p -= p * wd * lr -> the update -> iterations += 1.

    kind: "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion".
    learning_rate: a float or a callable step -> rate.
    """

    DEFAULTS = {
        "sgd": dict(learning_rate=0.01, momentum=0.0, nesterov=False),
        "adam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
        "adamw": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                      weight_decay=0.004),
        "rmsprop": dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
        "adagrad": dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7),
        "adadelta": dict(learning_rate=0.001, rho=0.95, epsilon=1e-7),
        "adamax": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        "nadam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        "lion": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.99),
    }

    def __init__(self, kind, shapes, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **kwargs):
        kind = kind.lower()
        cfg = dict(self.DEFAULTS[kind])
        if weight_decay is None and "weight_decay" in cfg:
            weight_decay = cfg.pop("weight_decay")
        cfg.pop("weight_decay", None)
        unknown = set(kwargs) - set(cfg)
        if unknown:
            raise TypeError(f"{kind}: unexpected arguments {sorted(unknown)}")
        cfg.update(kwargs)
        self.kind, self.cfg = kind, cfg
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.u_product = 1.0
        z = [np.zeros(s, dtype=np.float64) for s in shapes]
        self.slots = {
            "m": [a.copy() for a in z], "v": [a.copy() for a in z], "vhat": [a.copy() for a in z],
            "mom": [a.copy() for a in z], "avg": [a.copy() for a in z],
            "acc": [np.full(s, float(cfg.get("initial_accumulator_value", 0.0))) for s in shapes],
            "delta": [a.copy() for a in z],
        }

    def lr(self, step):
        r = self.cfg["learning_rate"]
        return float(r(step)) if callable(r) else float(r)

    def _clip(self, grads):
        if self.clipnorm:
            out = []
            for g in grads:
                n = np.sqrt(np.sum(g * g))
                out.append(g * self.clipnorm / max(n, self.clipnorm))
            return out
        if self.global_clipnorm:
            n = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
            return [g * self.global_clipnorm / max(n, self.global_clipnorm) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return list(grads)

    def step(self, params, grads):
        """Updates the float64 arrays in `params` in place from `grads`."""
        grads = self._clip([np.asarray(g, dtype=np.float64) for g in grads])
        lr = self.lr(self.iterations)
        t = self.iterations + 1
        c = self.cfg
        if self.kind == "nadam":
            self.u_product *= c["beta_1"] * (1.0 - 0.5 * 0.96 ** t)
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay:
                p -= p * self.weight_decay * lr
            getattr(self, "_" + self.kind.replace("adamw", "adam"))(i, p, g, lr, t)
        self.iterations += 1

    # --- updates (Keras 3 update_step) ---
    def _sgd(self, i, p, g, lr, t):
        mu = self.cfg["momentum"]
        if mu != 0:
            m = self.slots["mom"][i]
            m[...] = m * mu - g * lr
            if self.cfg["nesterov"]:
                p += m * mu - g * lr
            else:
                p += m
        else:
            p -= g * lr

    def _adam(self, i, p, g, lr, t):
        b1, b2, eps = self.cfg["beta_1"], self.cfg["beta_2"], self.cfg["epsilon"]
        m, v = self.slots["m"][i], self.slots["v"][i]
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        vv = v
        if self.cfg["amsgrad"]:
            vh = self.slots["vhat"][i]
            vh[...] = np.maximum(vh, v)
            vv = vh
        p -= m * alpha / (np.sqrt(vv) + eps)

    def _rmsprop(self, i, p, g, lr, t):
        rho, eps, mu = self.cfg["rho"], self.cfg["epsilon"], self.cfg["momentum"]
        vel = self.slots["v"][i]
        vel[...] = rho * vel + (1 - rho) * g * g
        if self.cfg["centered"]:
            avg = self.slots["avg"][i]
            avg[...] = rho * avg + (1 - rho) * g
            den = vel - avg * avg + eps
        else:
            den = vel + eps
        inc = lr * g / np.sqrt(den)
        if mu > 0:
            mom = self.slots["mom"][i]
            mom[...] = mu * mom + inc
            p -= mom
        else:
            p -= inc

    def _adagrad(self, i, p, g, lr, t):
        acc = self.slots["acc"][i]
        acc += g * g
        p -= lr * g / np.sqrt(acc + self.cfg["epsilon"])

    def _adadelta(self, i, p, g, lr, t):
        rho, eps = self.cfg["rho"], self.cfg["epsilon"]
        ag, ad = self.slots["v"][i], self.slots["delta"][i]
        ag[...] = rho * ag + (1 - rho) * g * g
        d = -np.sqrt(ad + eps) * g / np.sqrt(ag + eps)
        ad[...] = rho * ad + (1 - rho) * d * d
        p += lr * d

    def _adamax(self, i, p, g, lr, t):
        b1, b2, eps = self.cfg["beta_1"], self.cfg["beta_2"], self.cfg["epsilon"]
        m, u = self.slots["m"][i], self.slots["v"][i]
        m += (g - m) * (1 - b1)
        u[...] = np.maximum(b2 * u, np.abs(g))
        p -= lr * m / ((1 - b1 ** t) * (u + eps))

    def _nadam(self, i, p, g, lr, t):
        b1, b2, eps = self.cfg["beta_1"], self.cfg["beta_2"], self.cfg["epsilon"]
        m, v = self.slots["m"][i], self.slots["v"][i]
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        up_t = self.u_product
        up_t1 = up_t * u_t1
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = u_t1 * m / (1 - up_t1) + (1 - u_t) * g / (1 - up_t)
        v_hat = v / (1 - b2 ** t)
        p -= m_hat * lr / (np.sqrt(v_hat) + eps)

    def _lion(self, i, p, g, lr, t):
        b1, b2 = self.cfg["beta_1"], self.cfg["beta_2"]
        m = self.slots["m"][i]
        p -= lr * np.sign(m * b1 + g * (1 - b1))
        m[...] = m * b2 + g * (1 - b2)


@pytest.fixture(scope="session")
def keras_ref_optimizer():
    return KerasOptimizerRef


# --------------------------------------------------------------------------------------------
# tiers: every test carries the marker of the folder it lives in (pytest -m engine, -m "not system")
# --------------------------------------------------------------------------------------------
_TIERS = ("engine", "api", "saving", "system", "parity")
_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    for item in items:
        rel = os.path.relpath(str(item.path), _HERE)
        tier = rel.split(os.sep, 1)[0]
        if tier not in _TIERS:
            raise pytest.UsageError(f"{rel}: every test file lives in one of the tier folders {_TIERS}")
        item.add_marker(getattr(pytest.mark, tier))
