"""scikit-learn's MLPClassifier and MLPRegressor on fastnn's engine (needs scikit-learn >= 1.6).

Same parameters, defaults, fitted attributes and rules as scikit-learn's, so that replacing the
import keeps a script working::

    from fastnn.sklearn import MLPClassifier     # was: from sklearn.neural_network import ...

What is the same, and how:
- Initialization draws the same numbers from the same generator (Glorot uniform, factor 2 for
  logistic), shuffling and the early-stopping split use scikit-learn's own utilities on the same
  stream, and batches are gen_batches' slices: with one random_state both libraries start and walk
  through the data identically.
- The objective of each batch is scikit-learn's: (sum_i w_i loss_i + alpha/2 ||W||^2) / sum_i w_i
  (w_i = 1 without sample_weight; the L2 term covers the kernels, not the intercepts), with the
  log-loss for classifiers (logistic output for binary and multilabel targets, softmax for
  multiclass) and half the squared error for regressors. Its value and gradient come from fastnn's
  native forward and backward passes (the manual loop: forward, loss, backward, gradients), on a
  float64 network, so one batch's gradient equals scikit-learn's to rounding.
- "sgd" and "adam" apply scikit-learn's update formulas (Nesterov momentum, the "constant",
  "invscaling" and "adaptive" schedules, Adam's bias correction). On dense input a whole epoch runs
  natively in one engine call (the batch objective above, scikit-learn's SGD and Adam in the
  engine, the shuffled order drawn in Python from scikit-learn's generator); on sparse input each
  batch is one round through the manual loop, with the update in numpy on one flat vector. The
  two agree to about 1e-12 relative (the order of a few float64 sums differs);
  fastnn's other optimizer names ("rmsprop", "nadam", "adamw", ...) use fastnn's native update with
  learning_rate_init as the rate.
- "lbfgs" hands the full-batch objective and its native gradient to scipy.optimize's L-BFGS-B, as
  scikit-learn does, with maxiter=max_iter, maxfun=max_fun and gtol=tol.
- The convergence rules (tol, n_iter_no_change, early_stopping with validation_fraction, the
  ConvergenceWarning) and every fitted attribute follow scikit-learn.

Differences, all deliberate:
- Everything is computed in float64 (float32 input is converted): the outputs are float64, as
  scikit-learn returns them for float64 input, and fits agree with scikit-learn's to rounding.
- The regressor's gradient for several outputs follows the half squared error summed over the
  outputs, which is what scikit-learn's gradient does too; loss_ reports scikit-learn's value (the
  mean over the outputs), and L-BFGS sees a value consistent with its gradient.
- A batch whose sample weights sum to zero carries no information and is skipped (scikit-learn
  divides by zero there).
- The fit is deterministic for a given random_state: the native engine gives the same bits for any
  thread count, and the batches never depend on it.
- fit(..., distribution=fastnn.distributed.DataParallel()) (or an active `with DataParallel():`)
  trains data-parallel with the same bits on any rank count (fastnn.distributed.estimators;
  docs/DISTRIBUTED.md); "adam" and "sgd" on dense input only.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d, gen_batches
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core, _random
from . import activations as _activations
from . import layers as _layers
from . import losses as _losses
from . import optimizers as _optimizers
from . import regularizers as _regularizers
from . import schedules as _schedules
from .models import Sequential

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn's activation names -> fastnn's; fastnn's own names are accepted as they are.
_SKLEARN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_HIDDEN_ACTIVATIONS = sorted(set(_SKLEARN_ACTIVATIONS) | set(_activations.ALL) - {"softmax", "log_softmax"})
_NATIVE_SOLVERS = sorted(set(_optimizers.ALL) - {"sgd", "adam"})
_STOCHASTIC = {"sgd", "adam", *_NATIVE_SOLVERS}
_OUTPUT = {"softmax": ("softmax", _losses.CategoricalCrossentropy),
           "logistic": ("sigmoid", _losses.BinaryCrossentropy),
           "identity": ("linear", _losses.MeanSquaredError)}
_PREDICT_ROWS = 8192   # rows per predict call on sparse input (each chunk is densified)
# "sgd" and "adam" on dense input train natively, one engine call per epoch (_NativeEpochs); False
# keeps the per-batch Python loop (tests compare the two, benchmarks time both).
_NATIVE_EPOCHS = True


def _resolve_distribution(distribution):
    """fit's `distribution=` or the active `with DataParallel():` scope (fastnn.distributed is
    imported only where one is in use)."""
    if distribution is None and "fastnn.distributed" not in sys.modules:
        return None
    from .distributed import data_parallel as _dp
    return _dp.resolve(distribution)


def _pack(coefs, intercepts):
    return np.hstack([a.ravel() for a in list(coefs) + list(intercepts)])


class _SGD:
    """scikit-learn's SGD with (Nesterov) momentum and its learning-rate schedules."""

    def __init__(self, size, lr, schedule, momentum, nesterov, power_t):
        self.learning_rate_init = float(lr)
        self.learning_rate = float(lr)
        self.schedule, self.momentum, self.nesterov, self.power_t = schedule, momentum, nesterov, power_t
        self.velocity = np.zeros(size)

    def update(self, theta, grad):
        self.velocity = self.momentum * self.velocity - self.learning_rate * grad
        if self.nesterov:
            theta += self.momentum * self.velocity - self.learning_rate * grad
        else:
            theta += self.velocity

    def iteration_ends(self, time_step):
        if self.schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        if self.schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class _Adam:
    """scikit-learn's Adam: the bias correction folded into the step, epsilon outside the root."""

    def __init__(self, size, lr, beta_1, beta_2, epsilon):
        self.learning_rate_init = float(lr)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = np.zeros(size)
        self.v = np.zeros(size)

    def update(self, theta, grad):
        self.t += 1
        self.m = self.beta_1 * self.m + (1 - self.beta_1) * grad
        self.v = self.beta_2 * self.v + (1 - self.beta_2) * grad ** 2
        lr = self.learning_rate_init * np.sqrt(1 - self.beta_2 ** self.t) / (1 - self.beta_1 ** self.t)
        theta -= lr * self.m / (np.sqrt(self.v) + self.epsilon)

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


class _Native(_Adam):
    """One of fastnn's other optimizers (Keras 3 update formulas), run natively on the flat vector.
    Its state lives in the native object and does not survive pickling."""

    def __init__(self, size, name, lr):
        self.optimizer = _optimizers.get(name).__class__(learning_rate=lr)
        self.native = _core.OptimizerF64(self.optimizer.native_config(), size)

    def update(self, theta, grad):
        self.native.step(theta, np.ascontiguousarray(grad))

    def __getstate__(self):
        return {"optimizer": self.optimizer, "native": None}

    def __setstate__(self, state):
        self.__dict__.update(state)


class _NativeEpochs:
    """scikit-learn's epochs of "sgd" and "adam" run by the engine, one call per epoch, on the
    estimator's float64 network: each batch's objective divided by its weight sum (the engine's
    per_weight_sum objective, trainer.h), the L2 term a kernel regularizer alpha/2 under the same
    division, and scikit-learn's SGD (the engine's SGD is its formula) or Adam (sklearn_moments).
    The Python optimizer object stays the owner of the state between fits: it is loaded before the
    first epoch and written back by finish(), so partial_fit, pickling and the Python loop continue
    from it exactly."""

    def __init__(self, est, model, opt, theta, X, Y, sw, batch_size):
        self.engine, self.opt = model._engine, opt
        self.order = est._arena_order()       # arena position -> position in theta
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.Y = np.ascontiguousarray(Y, dtype=np.float64)
        self.W = None if sw is None else np.ascontiguousarray(sw, dtype=np.float64)
        self.batch_size = batch_size
        self.batches = -(-self.X.shape[0] // batch_size)
        scale, report_div = est._loss_scale()
        self.engine.set_objective(True, scale, scale / report_div)
        self.engine.set_arena(theta[self.order], "fit")
        kinds = _core.OptKind.__members__
        if isinstance(opt, _SGD):
            self.rate = opt.learning_rate
            config = {"kind": int(kinds["SGD"]), "schedule": self._constant(self.rate),
                      "momentum": float(opt.momentum), "nesterov": bool(opt.nesterov)}
            state, steps = (opt.velocity[self.order] if opt.momentum > 0 else np.zeros(0)), 0
        else:
            self.rate = None
            config = {"kind": int(kinds["Adam"]), "schedule": self._constant(opt.learning_rate_init),
                      "beta_1": float(opt.beta_1), "beta_2": float(opt.beta_2),
                      "epsilon": float(opt.epsilon), "sklearn_moments": True}
            state, steps = np.concatenate([opt.m[self.order], opt.v[self.order]]), opt.t
        self.engine.set_optimizer(config, reset=True)
        self.engine.set_optimizer_state(state, steps, 1.0)

    @staticmethod
    def _constant(rate):
        return {"kind": int(_schedules._KIND["Constant"]), "initial": float(rate)}

    def epoch(self, theta, index):
        """One epoch in the batch order `index` (None: rows in order); updates theta in place and
        returns the sum over batches of scikit-learn's batch loss times the batch's rows."""
        if self.rate is not None and self.opt.learning_rate != self.rate:
            self.rate = self.opt.learning_rate      # invscaling and adaptive change it between epochs
            self.engine.set_learning_rate_schedule(self._constant(self.rate))
        loss_sum = self.engine.train(self.X, self.Y, self.W, index, self.batch_size, 0, self.batches,
                                     False, 0.0)[0]
        theta[self.order] = self.engine.arena()
        return float(loss_sum)

    def finish(self):
        """Writes the optimizer state back into the Python optimizer; the network's objective goes
        back to Keras's."""
        state, size = self.engine.optimizer_state(), self.order.size
        if isinstance(self.opt, _SGD):
            if self.opt.momentum > 0:
                self.opt.velocity = np.empty(size)
                self.opt.velocity[self.order] = state
        else:
            self.opt.m, self.opt.v = np.empty(size), np.empty(size)
            self.opt.m[self.order], self.opt.v[self.order] = state[:size], state[size:]
            self.opt.t = int(self.engine.iterations)
        self.engine.set_objective()


class _BaseMLP(BaseEstimator):
    """The shared machinery of MLPClassifier and MLPRegressor (not for direct use)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", *_STOCHASTIC})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    # ------------------------------------------------------------------ the native network
    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state.pop("_fnn", None)      # rebuilt from coefs_ on first use
        state.pop("_fnn_lock", None)
        return state

    def _lock(self):
        lock = self.__dict__.get("_fnn_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_fnn_lock", threading.RLock())
        return lock

    def _network(self, layer_units):
        """The float64 fastnn Sequential for these layer sizes, built once and reused; its weights
        are whatever the caller sets before each use."""
        hidden = _SKLEARN_ACTIVATIONS.get(self.activation, self.activation)
        out_act, loss_cls = _OUTPUT[self.out_activation_]
        # The kernels carry scikit-learn's L2 term as a regularizer alpha/2 (used by the native epochs
        # only, whose objective divides it by the batch's weight sum; the manual loop ignores it).
        key = (tuple(int(u) for u in layer_units), hidden, self.out_activation_, float(self.alpha))
        cached = self.__dict__.get("_fnn")
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        with _random.seeded(0):     # the weights are always set from coefs_: no global draw is spent
            layers = [_layers.Input(shape=(key[0][0],))]
            reg = (lambda: _regularizers.L2(0.5 * key[3])) if key[3] > 0 else (lambda: None)
            layers += [_layers.Dense(u, activation=hidden, kernel_regularizer=reg()) for u in key[0][1:-1]]
            layers.append(_layers.Dense(key[0][-1], activation=out_act, kernel_regularizer=reg()))
            model = Sequential(layers, dtype="float64")
        loss = loss_cls()
        # compile binds the loss (so the output activation and the loss fuse: gradient p - y from the
        # logits) and an optimizer whose only use here is zero_grad(); updates are applied outside.
        model.compile(optimizer=_optimizers.SGD(learning_rate=0.0), loss=loss)
        self._fnn = (key, model, loss)
        return model, loss

    def _layer_units(self):
        return [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]

    def _set_network_weights(self, model, theta):
        weights = []
        for (s, e, shape), (bs, be) in zip(self._coef_indptr, self._intercept_indptr):
            weights += [theta[s:e].reshape(shape), theta[bs:be]]
        model.set_weights(weights)

    def _index(self, layer_units):
        self._coef_indptr, self._intercept_indptr = [], []
        start = 0
        for i in range(len(layer_units) - 1):
            end = start + layer_units[i] * layer_units[i + 1]
            self._coef_indptr.append((start, end, (layer_units[i], layer_units[i + 1])))
            start = end
        for i in range(len(layer_units) - 1):
            end = start + layer_units[i + 1]
            self._intercept_indptr.append((start, end))
            start = end
        self._n_coef = self._coef_indptr[-1][1]

    def _arena_order(self):
        """For each position of the network's parameter arena (kernel, bias, layer after layer), its
        position in theta (every kernel, then every bias)."""
        return np.concatenate([np.r_[s:e, bs:be] for (s, e, _shape), (bs, be)
                               in zip(self._coef_indptr, self._intercept_indptr)]).astype(np.int64)

    def _unpack(self, theta):
        self.coefs_ = [theta[s:e].reshape(shape).copy() for (s, e, shape) in self._coef_indptr]
        self.intercepts_ = [theta[s:e].copy() for (s, e) in self._intercept_indptr]

    # ------------------------------------------------------------------ objective and gradient
    def _loss_scale(self):
        """(factor on each sample's native loss that gives scikit-learn's per-sample loss, divisor
        that turns the objective's data term into scikit-learn's reported loss)."""
        k = self.n_outputs_
        if self.out_activation_ == "identity":
            return 0.5 * k, float(k)     # Keras MSE averages the outputs; the gradient sums them
        if self.out_activation_ == "logistic":
            return float(k), 1.0         # Keras BCE averages the labels; log-loss sums them
        return 1.0, 1.0

    def _loss_grad(self, model, loss, theta, X, Y, sw):
        """(scikit-learn's reported loss, the objective, its gradient) for one batch, natively."""
        n = X.shape[0]
        total = float(n) if sw is None else float(np.sum(sw))
        scale, report_div = self._loss_scale()
        factor = scale * n / total
        w = None if (sw is None and factor == 1.0) else \
            (np.full(n, factor) if sw is None else sw * factor)
        self._set_network_weights(model, theta)
        model.optimizer.zero_grad()
        out = model(X, training=True)
        value = loss(Y, out, sample_weight=w)
        value.backward()
        grads = [v.grad for v in model.weights]
        grad = np.hstack([g.ravel() for g in grads[0::2]] + [g.ravel() for g in grads[1::2]])
        coefs = theta[:self._n_coef]
        reg = 0.5 * self.alpha * float(np.dot(coefs, coefs)) / total
        grad[:self._n_coef] += (self.alpha / total) * coefs
        data = float(value)
        return data / report_div + reg, data + reg, grad

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None, incremental=False, distribution=None):
        self._validate_params()
        dp = _resolve_distribution(distribution)
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if np.any(np.array(hidden) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        y = np.ascontiguousarray(y, dtype=np.float64)
        if dp is not None:
            from .distributed import estimators as _dpe
            _dpe.refuse_unsharded(self.solver, X, _NATIVE_EPOCHS)
            _dpe.check_same_fit(dp, self, X, y, sample_weight, incremental)
        n_features = X.shape[1]
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + [int(h) for h in hidden] + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if dp is not None:
            self._random_state = _dpe.agree_random_state(dp.communicator, self._random_state)
        if first_pass:
            self._initialize(layer_units)
        elif self._layer_units() != layer_units:
            raise ValueError(f"warm_start or partial_fit: the network has layers {self._layer_units()}, "
                             f"the data and hidden_layer_sizes need {layer_units}")
        self._index(layer_units)
        model, loss = self._network(layer_units)
        theta = _pack(self.coefs_, self.intercepts_).astype(np.float64)
        with self._lock():
            if self.solver == "lbfgs":
                theta = self._fit_lbfgs(model, loss, theta, X, y, sample_weight)
            else:
                theta = self._fit_stochastic(model, loss, theta, X, y, sample_weight, incremental, dp)
        if not np.isfinite(theta).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data may contain "
                             "large values and need to be preprocessed.")
        if not (self.solver != "lbfgs" and self.early_stopping):
            self._unpack(theta)
        return self

    def _initialize(self, layer_units):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        factor = 2.0 if self.activation == "logistic" else 6.0
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            self.coefs_.append(self._random_state.uniform(-bound, bound, (fan_in, fan_out)))
            self.intercepts_.append(self._random_state.uniform(-bound, bound, fan_out))
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [b.copy() for b in self.intercepts_]
        for name in ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_", "_optimizer"):
            self.__dict__.pop(name, None)
        if self.solver in _STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    @staticmethod
    def _rows(X, idx):
        rows = X[idx]
        return np.ascontiguousarray(rows.toarray() if sp.issparse(rows) else rows, dtype=np.float64)

    def _fit_lbfgs(self, model, loss, theta, X, y, sample_weight):
        Xd = self._rows(X, slice(None))
        last = {}

        def fun(t):
            reported, objective, grad = self._loss_grad(model, loss, t, Xd, y, sample_weight)
            last["x"], last["loss"] = t.copy(), reported
            return objective, grad

        callback = None
        if self.verbose:
            def callback(intermediate_result):
                print("Iteration %d, loss = %.8f" % (len(history) + 1, intermediate_result.fun))
                history.append(intermediate_result.fun)
            history: list = []
        res = scipy.optimize.minimize(fun, theta, method="L-BFGS-B", jac=True, callback=callback,
                                      options={"maxfun": self.max_fun, "maxiter": self.max_iter,
                                               "gtol": self.tol})
        if res.status != 0:
            msg = res.message.decode("latin1") if isinstance(res.message, bytes) else str(res.message)
            warnings.warn(f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}):\n"
                          f"{msg}\n\nIncrease the number of iterations to improve the convergence "
                          f"(max_iter={self.max_iter}).\nYou might also want to scale the data as shown in:\n"
                          "    https://scikit-learn.org/stable/modules/preprocessing.html",
                          ConvergenceWarning, stacklevel=3)
        self.n_iter_ = min(int(res.nit), self.max_iter)
        theta = np.asarray(res.x, dtype=np.float64)
        if "x" in last and np.array_equal(last["x"], theta):
            self.loss_ = last["loss"]
        else:
            self.loss_ = self._loss_grad(model, loss, theta, Xd, y, sample_weight)[0]
        return theta

    def _make_optimizer(self, size):
        if self.solver == "sgd":
            return _SGD(size, self.learning_rate_init, self.learning_rate, self.momentum,
                        self.nesterovs_momentum, self.power_t)
        if self.solver == "adam":
            return _Adam(size, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return _Native(size, self.solver, self.learning_rate_init)

    def _fit_stochastic(self, model, loss, theta, X, y, sample_weight, incremental, dp=None):
        opt = self.__dict__.get("_optimizer")
        if not incremental or opt is None or (isinstance(opt, _Native) and opt.native is None):
            if isinstance(opt, _Native) and incremental:
                warnings.warn(f"partial_fit: the state of the {self.solver!r} optimizer does not survive "
                              "pickling; it starts afresh", UserWarning, stacklevel=3)
            opt = self._optimizer = self._make_optimizer(theta.size)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        verbose = self.verbose
        if dp is not None:
            from .distributed import estimators as _dpe
            _dpe.broadcast_training_state(dp, self, theta, opt)
            if dp.rank != 0:
                verbose = False     # rank 0 prints
        early_stopping = self.early_stopping
        if early_stopping:
            stratify = y if (is_classifier(self) and self.n_outputs_ == 1) else None
            if sample_weight is None:
                X_train, X_val, y_train, y_val = train_test_split(
                    X, y, random_state=self._random_state, test_size=self.validation_fraction,
                    stratify=stratify)
                sw_train = sw_val = None
            else:
                X_train, X_val, y_train, y_val, sw_train, sw_val = train_test_split(
                    X, y, sample_weight, random_state=self._random_state,
                    test_size=self.validation_fraction, stratify=stratify)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' or the "
                                 "size of your dataset.")
            if is_classifier(self):
                y_val = self._label_binarizer.inverse_transform(y_val)
        else:
            X_train, y_train, sw_train = X, y, sample_weight
            X_val = y_val = sw_val = None
        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be "
                              "clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        native = None
        if _NATIVE_EPOCHS and type(opt) in (_SGD, _Adam) and not sp.issparse(X_train):
            native = _NativeEpochs(self, model, opt, theta, X_train, y_train, sw_train, batch_size)
        # Under DataParallel the engine's steps are sharded for the whole loop (the native epochs).
        sharded = contextlib.ExitStack()
        if dp is not None:
            sharded.enter_context(dp._sharded(model._engine))
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    # sklearn.utils.shuffle's draw (the same stream), without its per-call validation
                    order = np.arange(n_samples)
                    self._random_state.shuffle(order)
                    sample_idx = sample_idx[order]
                accumulated = 0.0
                if native is not None:
                    accumulated = native.epoch(theta, sample_idx if self.shuffle else None)
                for batch in (() if native is not None else gen_batches(n_samples, batch_size)):
                    idx = sample_idx[batch] if self.shuffle else batch
                    swb = None if sw_train is None else sw_train[idx]
                    if swb is not None and not np.sum(swb) > 0:
                        continue        # no weight, no information
                    reported, _objective, grad = self._loss_grad(
                        model, loss, theta, self._rows(X_train, idx), y_train[idx], swb)
                    accumulated += reported * (batch.stop - batch.start)
                    opt.update(theta, grad)
                self.n_iter_ += 1
                self.loss_ = accumulated / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                self._update_no_improvement_count(early_stopping, theta, X_val, y_val, sw_val, verbose, dp)
                opt.iteration_ends(self.t_)
                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = ("Validation score did not improve more than tol=%f for %d consecutive epochs."
                               % (self.tol, self.n_iter_no_change))
                    else:
                        msg = ("Training loss did not improve more than tol=%f for %d consecutive epochs."
                               % (self.tol, self.n_iter_no_change))
                    if opt.trigger_stopping(msg, verbose):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the optimization "
                                  "hasn't converged yet." % self.max_iter, ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        finally:
            sharded.close()
            if native is not None:
                native.finish()
        if early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts
        return theta

    def _update_no_improvement_count(self, early_stopping, theta, X_val, y_val, sw_val, verbose=None,
                                     dp=None):
        verbose = self.verbose if verbose is None else verbose
        if early_stopping:
            self._unpack(theta)
            score = self._score(X_val, y_val, sample_weight=sw_val)
            if dp is not None:
                from .distributed import estimators as _dpe
                score = _dpe.agree(dp, score)   # every rank decides from rank 0's score
            self.validation_scores_.append(score)
            if verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [b.copy() for b in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def fit(self, X, y, sample_weight=None, distribution=None):
        """Fits the model to X and y (class labels or real targets); sample_weight as in
        scikit-learn 1.7+. Returns self.

        distribution: a fastnn.distributed.DataParallel (default: the active `with DataParallel():`
        scope, if any) trains data-parallel on its communicator's ranks, every rank passing the
        same X, y (solver "adam" or "sgd" on dense X; docs/DISTRIBUTED.md)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False, distribution=distribution)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} "
                                 "is not stochastic.")
        return True

    # ------------------------------------------------------------------ predict
    def _forward(self, X, check_input=True):
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        layer_units = self._layer_units()
        self._index(layer_units)
        theta = _pack(self.coefs_, self.intercepts_).astype(np.float64)
        n = X.shape[0]
        with self._lock():
            model, _loss = self._network(layer_units)
            self._set_network_weights(model, theta)
            if n == 0:
                return np.empty((0, layer_units[-1]))
            if not sp.issparse(X):
                return model.predict(np.ascontiguousarray(X, dtype=np.float64), batch_size=max(n, 1), verbose=0)
            out = np.empty((n, layer_units[-1]))
            for start in range(0, n, _PREDICT_ROWS):
                rows = slice(start, min(n, start + _PREDICT_ROWS))
                out[rows] = model.predict(self._rows(X, rows), batch_size=_PREDICT_ROWS, verbose=0)
            return out

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's MLPClassifier trained by fastnn's engine.

    Same parameters, defaults, attributes and rules as scikit-learn's. The output layer is logistic
    for binary and multilabel targets and softmax for multiclass; the log-loss is minimized with
    L-BFGS, SGD, Adam or one of fastnn's optimizers (solver="rmsprop", "nadam", ...). activation
    takes scikit-learn's names ("identity", "logistic", "tanh", "relu") and fastnn's ("gelu",
    "silu", "elu", ...). See the module docstring for what is computed and how. Parameters outside
    the ranges below raise scikit-learn's InvalidParameterError (a ValueError) when fit is called.

    Parameters
    ----------
    hidden_layer_sizes : array_like of int, default (100,)
        The widths of the hidden layers, in order; each an int >= 1.
    activation : str, default "relu"
        The hidden layers' activation: scikit-learn's "identity", "logistic", "tanh", "relu", or
        any of fastnn's activation names except softmax and log_softmax ("gelu", "silu", ...).
    solver : str, default "adam"
        "lbfgs" (scipy's L-BFGS-B on the full batch), "sgd", "adam", or one of fastnn's other
        optimizer names ("rmsprop", "nadam", "adamw", ...), which run fastnn's native update with
        learning_rate_init as the rate.
    alpha : float, default 0.0001
        The strength of the L2 penalty alpha / 2 * ||W||^2 on the kernels (not the intercepts),
        divided like the data term by the batch's total sample weight; >= 0.
    batch_size : int or "auto", default "auto"
        Rows per batch for the stochastic solvers; "auto" is min(200, n_samples), and a larger
        value is clipped to n_samples with a warning. lbfgs uses the full batch.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        The step-size schedule of solver="sgd": fixed, learning_rate_init / t**power_t, or divided
        by 5 each time the loss stops improving by tol for n_iter_no_change epochs.
    learning_rate_init : float, default 0.001
        The initial step size of the stochastic solvers; > 0.
    power_t : float, default 0.5
        The exponent of the "invscaling" schedule; >= 0.
    max_iter : int, default 200
        Epochs for the stochastic solvers (each sample seen once per epoch), iterations for lbfgs.
    shuffle : bool, default True
        Whether the stochastic solvers shuffle the rows every epoch.
    random_state : int, numpy.random.RandomState or None, default None
        Seeds the initial weights, the shuffling and the early-stopping split. The same value gives
        the same draws as scikit-learn's estimator, and the fit is bitwise the same for any thread
        count.
    tol : float, default 1e-4
        The improvement of the loss (or of the validation score, with early_stopping) below which
        an epoch counts as no progress; lbfgs uses it as gtol. >= 0.
    verbose : bool, default False
        Whether to print the loss after each epoch.
    warm_start : bool, default False
        Whether fit starts from the previous fit's weights instead of new ones.
    momentum : float, default 0.9
        The momentum of solver="sgd", in [0, 1].
    nesterovs_momentum : bool, default True
        Whether solver="sgd" uses Nesterov's momentum (when momentum > 0).
    early_stopping : bool, default False
        Whether to hold out validation_fraction of the training data and stop when its score has
        not improved by tol for n_iter_no_change epochs (stochastic solvers only).
    validation_fraction : float, default 0.1
        The share of the training data held out for early stopping, in [0, 1).
    beta_1, beta_2 : float, default 0.9, 0.999
        Adam's decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        Adam's term added to the root of the second moment (outside the root, as scikit-learn
        does; Keras adds it the same way); > 0.
    n_iter_no_change : int or numpy.inf, default 10
        Epochs without progress (see tol) before stopping or, with "adaptive", before the step is
        cut; >= 1.
    max_fun : int, default 15000
        The most loss evaluations lbfgs may make; >= 1.
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype=np.float64,
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                     f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}."
                                 f" 'y' has {classes}.")
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def predict(self, X):
        """The predicted classes.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
            The samples (CSR or CSC when sparse), with the n_features seen in fit; converted to
            float64.

        Returns
        -------
        numpy.ndarray
            Labels from classes_, shape (n_samples,), or a (n_samples, n_classes) indicator array
            for multilabel targets.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None, distribution=None):
        """One pass over X, y. classes (all the labels) is required on the first call;
        distribution as in fit."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, distribution=distribution)

    def predict_log_proba(self, X):
        """The logarithm of the class probabilities, log(predict_proba(X)).

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
            The samples (CSR or CSC when sparse), with the n_features seen in fit; converted to
            float64.

        Returns
        -------
        numpy.ndarray
            float64, shape (n_samples, n_classes), columns in the order of classes_ (-inf where a
            probability is 0).
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """The class probabilities.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
            The samples (CSR or CSC when sparse), with the n_features seen in fit; converted to
            float64.

        Returns
        -------
        numpy.ndarray
            float64, shape (n_samples, n_classes), columns in the order of classes_; a binary
            problem gives two columns (1 - p, p).
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's MLPRegressor trained by fastnn's engine.

    Same parameters, defaults, attributes and rules as scikit-learn's. The output layer is the
    identity and the loss half the squared error (loss_ reports scikit-learn's value). See the
    module docstring for what is computed and how. Parameters outside the ranges below raise
    scikit-learn's InvalidParameterError (a ValueError) when fit is called.

    Parameters
    ----------
    loss : {"squared_error"}, default "squared_error"
        The loss; scikit-learn 1.7's only choice for this estimator.
    hidden_layer_sizes : array_like of int, default (100,)
        The widths of the hidden layers, in order; each an int >= 1.
    activation : str, default "relu"
        The hidden layers' activation: scikit-learn's "identity", "logistic", "tanh", "relu", or
        any of fastnn's activation names except softmax and log_softmax ("gelu", "silu", ...).
    solver : str, default "adam"
        "lbfgs" (scipy's L-BFGS-B on the full batch), "sgd", "adam", or one of fastnn's other
        optimizer names ("rmsprop", "nadam", "adamw", ...), which run fastnn's native update with
        learning_rate_init as the rate.
    alpha : float, default 0.0001
        The strength of the L2 penalty alpha / 2 * ||W||^2 on the kernels (not the intercepts),
        divided like the data term by the batch's total sample weight; >= 0.
    batch_size : int or "auto", default "auto"
        Rows per batch for the stochastic solvers; "auto" is min(200, n_samples), and a larger
        value is clipped to n_samples with a warning. lbfgs uses the full batch.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        The step-size schedule of solver="sgd": fixed, learning_rate_init / t**power_t, or divided
        by 5 each time the loss stops improving by tol for n_iter_no_change epochs.
    learning_rate_init : float, default 0.001
        The initial step size of the stochastic solvers; > 0.
    power_t : float, default 0.5
        The exponent of the "invscaling" schedule; >= 0.
    max_iter : int, default 200
        Epochs for the stochastic solvers (each sample seen once per epoch), iterations for lbfgs.
    shuffle : bool, default True
        Whether the stochastic solvers shuffle the rows every epoch.
    random_state : int, numpy.random.RandomState or None, default None
        Seeds the initial weights, the shuffling and the early-stopping split. The same value gives
        the same draws as scikit-learn's estimator, and the fit is bitwise the same for any thread
        count.
    tol : float, default 1e-4
        The improvement of the loss (or of the validation score, with early_stopping) below which
        an epoch counts as no progress; lbfgs uses it as gtol. >= 0.
    verbose : bool, default False
        Whether to print the loss after each epoch.
    warm_start : bool, default False
        Whether fit starts from the previous fit's weights instead of new ones.
    momentum : float, default 0.9
        The momentum of solver="sgd", in [0, 1].
    nesterovs_momentum : bool, default True
        Whether solver="sgd" uses Nesterov's momentum (when momentum > 0).
    early_stopping : bool, default False
        Whether to hold out validation_fraction of the training data and stop when its score has
        not improved by tol for n_iter_no_change epochs (stochastic solvers only).
    validation_fraction : float, default 0.1
        The share of the training data held out for early stopping, in [0, 1).
    beta_1, beta_2 : float, default 0.9, 0.999
        Adam's decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        Adam's term added to the root of the second moment (outside the root, as scikit-learn
        does; Keras adds it the same way); > 0.
    n_iter_no_change : int or numpy.inf, default 10
        Epochs without progress (see tol) before stopping or, with "adaptive", before the step is
        cut; >= 1.
    max_fun : int, default 15000
        The most loss evaluations lbfgs may make; >= 1.
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error"})],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 max_fun=15000):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=np.float64, reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def predict(self, X):
        """The predicted targets.

        Parameters
        ----------
        X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
            The samples (CSR or CSC when sparse), with the n_features seen in fit; converted to
            float64.

        Returns
        -------
        numpy.ndarray
            float64, shape (n_samples,) for a single target, else (n_samples, n_outputs).
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, distribution=None):
        """One pass over X, y; distribution as in fit."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, distribution=distribution)
