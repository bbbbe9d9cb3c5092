"""fastnn.explain: input gradients, input x gradient, integrated gradients (every quadrature rule and the
exact piecewise linear path integral) and SmoothGrad, against central finite differences, the axioms
of integrated gradients, high-order quadrature and captum on copied weights."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import explain, layers
from fastnn.activations import Activation
from fastnn.initializers import RandomNormal

D = 6
QUADRATURE = [m for m in explain.METHODS if m != "exact"]

ACTIVATIONS = {
    "linear": Activation("linear"),
    "relu": Activation("relu"),
    "relu_args": Activation("relu", negative_slope=0.1, max_value=1.5, threshold=0.2),
    "leaky_relu": Activation("leaky_relu"),
    "relu6": Activation("relu6"),
    "elu": Activation("elu", alpha=0.7),
    "selu": Activation("selu"),
    "gelu": Activation("gelu"),
    "gelu_approximate": Activation("gelu", approximate=True),
    "silu": Activation("silu"),
    "mish": Activation("mish"),
    "softplus": Activation("softplus"),
    "softsign": Activation("softsign"),
    "sigmoid": Activation("sigmoid"),
    "hard_sigmoid": Activation("hard_sigmoid"),
    "hard_silu": Activation("hard_silu"),
    "tanh": Activation("tanh"),
    "exponential": Activation("exponential"),
    "softmax": Activation("softmax"),
    "log_softmax": Activation("log_softmax"),
}
PIECEWISE_LINEAR = {
    "linear": Activation("linear"),
    "relu": Activation("relu"),
    "relu_clipped": Activation("relu", negative_slope=0.1, max_value=1.5),
    "relu_negative_threshold": Activation("relu", max_value=2.0, threshold=-0.3),
    "leaky_relu": Activation("leaky_relu"),
    "relu6": Activation("relu6"),
    "hard_sigmoid": Activation("hard_sigmoid"),
}


def _dense(units, act, seed, std=0.9, bias_std=0.5):
    return layers.Dense(units, activation=act, kernel_initializer=RandomNormal(stddev=std, seed=seed),
                        bias_initializer=RandomNormal(stddev=bias_std, seed=seed + 100))


def _net(hidden, final=None, n_out=3, dtype="float64", seed=0, std=0.9, widths=(7, 5), extra=()):
    fastnn.utils.set_random_seed(seed)
    body = [layers.Input(shape=(D,))]
    for i, w in enumerate(widths):
        body.append(_dense(w, hidden, seed + 1 + i, std))
        if i == 0:
            body.extend(extra)
    body.append(_dense(n_out, final, seed + 9, std))
    return fastnn.Sequential(body, dtype=dtype)


def _twin(model, dtype):
    """The same network and weights in another dtype."""
    other = fastnn.Sequential.from_config({**model.get_config(), "dtype": dtype})
    other.set_weights(model.get_weights())
    return other


def _x(n=5, seed=0, scale=1.0):
    return np.random.default_rng(seed).normal(0, scale, (n, D))


def _out(model, x, target):
    return model.predict(x, verbose=0)[np.arange(x.shape[0]), target]


def _fd_gradient(model, x, target, h=1e-6):
    g = np.zeros_like(x)
    for c in range(x.shape[1]):
        xp, xm = x.copy(), x.copy()
        step = h * np.maximum(1.0, np.abs(x[:, c]))
        xp[:, c] += step
        xm[:, c] -= step
        g[:, c] = (_out(model, xp, target) - _out(model, xm, target)) / (2 * step)
    return g


# ------------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_input_gradients_match_finite_differences_for_every_activation(act):
    std = 0.3 if act == "exponential" else 0.9
    m64 = _net(ACTIVATIONS[act], final=None, std=std)
    x = _x(8, seed=1)
    target = np.arange(8) % 3
    fd = _fd_gradient(m64, x, target)
    g64 = explain.input_gradients(m64, x, target=target)
    assert g64.dtype == np.float64 and g64.shape == x.shape
    assert np.abs(fd).max() > 1e-3
    np.testing.assert_allclose(g64, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
    m32 = _twin(m64, "float32")
    g32 = explain.input_gradients(m32, x.astype(np.float32), target=target)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, fd, rtol=2e-3, atol=2e-4 * np.abs(fd).max())
    np.testing.assert_allclose(explain.input_x_gradient(m64, x, target=target), x * g64, rtol=1e-15)


def test_input_gradients_of_one_output_and_of_a_per_row_target():
    m = _net("tanh", final="sigmoid", n_out=1)
    x = _x(6)
    g = explain.input_gradients(m, x)
    np.testing.assert_allclose(g, _fd_gradient(m, x, np.zeros(6, int)), rtol=1e-6, atol=1e-10)
    m3 = _net("tanh", final="softmax", n_out=3)
    t = np.array([0, 1, 2, 2, 1, 0])
    rows = np.stack([explain.input_gradients(m3, x[i:i + 1], target=int(t[i]))[0] for i in range(6)])
    np.testing.assert_array_equal(explain.input_gradients(m3, x, target=t), rows)


def test_inference_mode_dropout_and_normalization():
    extra = (layers.BatchNormalization(), layers.Dropout(0.5), layers.LayerNormalization())
    m = _net("gelu", final=None, extra=extra)
    ws = m.get_weights()
    rng = np.random.default_rng(3)
    m.set_weights([w + 0.2 * rng.random(w.shape) for w in ws])  # non-trivial moving statistics
    x = _x(5)
    t = np.arange(5) % 3
    np.testing.assert_allclose(explain.input_gradients(m, x, target=t), _fd_gradient(m, x, t),
                               rtol=1e-6, atol=1e-9)


def test_inputs_of_several_dimensions_keep_their_shape():
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(2, 3)), layers.Flatten(), _dense(4, "tanh", 1), _dense(2, None, 2)],
                          dtype="float64")
    x = _x(4).reshape(4, 2, 3)
    g = explain.input_gradients(m, x, target=1)
    assert g.shape == (4, 2, 3)
    np.testing.assert_array_equal(g.reshape(4, 6), explain.input_gradients(m, x.reshape(4, 6), target=1))
    ig = explain.integrated_gradients(m, x, target=1, baselines=np.full((2, 3), 0.5))
    assert ig.shape == (4, 2, 3)


# ------------------------------------------------------------------------------------------ completeness
@pytest.mark.parametrize("act", ["tanh", "sigmoid", "gelu", "silu", "softplus", "mish"])
def test_completeness_of_gausslegendre_for_smooth_networks(act):
    m = _net(act, final="sigmoid", std=0.7)
    x = _x(20, seed=2)
    t = np.arange(20) % 3
    for baselines in (0.0, "mean", _x(1, seed=9)[0]):
        attr, delta = explain.integrated_gradients(m, x, target=t, baselines=baselines, n_steps=50,
                                                   return_convergence_delta=True)
        b = np.broadcast_to(x.mean(axis=0) if isinstance(baselines, str) else baselines, x.shape)
        gap = _out(m, x, t) - _out(m, np.ascontiguousarray(b), t)
        assert np.abs(gap).max() > 1e-3
        np.testing.assert_allclose(delta, attr.sum(axis=1) - gap, rtol=0, atol=1e-15)
        assert np.abs(delta).max() <= 1e-8


def _relu_net(seed=0, final=None, dtype="float64", hidden="relu", extra=()):
    return _net(hidden, final=final, std=1.0, seed=seed, dtype=dtype, widths=(10, 10), extra=extra)


def test_relu_networks_converge_with_steps_and_exact_meets_1e_10():
    m = _relu_net()
    x = _x(30, seed=4)
    t = np.arange(30) % 3
    errors = {}
    for method in ("gausslegendre", "riemann_middle", "riemann_trapezoid"):
        errors[method] = [np.abs(explain.integrated_gradients(m, x, target=t, n_steps=s, method=method,
                                                              return_convergence_delta=True)[1]).mean()
                          for s in (20, 200, 2000)]
        assert errors[method][0] > 1e-4  # kinks are crossed: the rules are not exact here
        assert errors[method][0] > 3 * errors[method][1] > 9 * errors[method][2], (method, errors)
    _, delta = explain.integrated_gradients(m, x, target=t, method="exact", return_convergence_delta=True)
    assert np.abs(delta).max() <= 1e-10


@pytest.mark.parametrize("act", sorted(PIECEWISE_LINEAR))
@pytest.mark.parametrize("final", [None, "relu", "sigmoid", "tanh", "softplus", "elu", "hard_silu"])
def test_exact_matches_fine_quadrature_for_every_piecewise_linear_activation(act, final):
    m = _net(PIECEWISE_LINEAR[act], final=final, std=1.2, widths=(8, 6), seed=5)
    x = _x(12, seed=6, scale=2.0)
    t = np.arange(12) % 3
    b = _x(1, seed=7)[0]
    exact, delta = explain.integrated_gradients(m, x, target=t, baselines=b, method="exact",
                                                return_convergence_delta=True)
    assert np.abs(delta).max() <= 1e-10
    fine = explain.integrated_gradients(m, x, target=t, baselines=b, method="riemann_middle", n_steps=4000)
    coarse = explain.integrated_gradients(m, x, target=t, baselines=b, method="riemann_middle", n_steps=400)
    scale = np.abs(exact).max()
    assert scale > 1e-3
    err_fine, err_coarse = np.abs(fine - exact).max(), np.abs(coarse - exact).max()
    # the midpoint rule's error at a kink is O(1/n_steps): 10x the steps, about a tenth of the error
    assert err_fine <= 3e-3 * scale
    assert err_fine <= max(err_coarse / 4, 1e-9 * scale)


def test_exact_against_a_10000_step_quadrature_on_the_founding_network():
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(8,)), _dense(10, "relu", 1, 0.8), _dense(10, "relu", 2, 0.8),
                           _dense(1, "sigmoid", 3, 0.8)], dtype="float64")
    x = np.random.default_rng(0).normal(size=(40, 8))
    exact, d_exact = explain.integrated_gradients(m, x, method="exact", return_convergence_delta=True)
    gl, d_gl = explain.integrated_gradients(m, x, method="gausslegendre", n_steps=10000,
                                            return_convergence_delta=True)
    assert np.abs(d_exact).max() <= 1e-12
    assert np.abs(gl - exact).max() <= 1e-3 * np.abs(exact).max()
    assert np.abs(d_exact).max() < np.abs(d_gl).max()


def test_exact_with_batchnorm_and_float32():
    m = _relu_net(extra=(layers.BatchNormalization(), layers.Dropout(0.3)), final="sigmoid")
    rng = np.random.default_rng(8)
    m.set_weights([w + 0.3 * rng.random(w.shape) for w in m.get_weights()])
    x = _x(10, seed=3)
    t = np.arange(10) % 3
    exact, delta = explain.integrated_gradients(m, x, target=t, method="exact", return_convergence_delta=True)
    assert np.abs(delta).max() <= 1e-10
    fine = explain.integrated_gradients(m, x, target=t, method="gausslegendre", n_steps=5000)
    assert np.abs(fine - exact).max() <= 1e-3 * np.abs(exact).max()
    m32 = _twin(m, "float32")
    e32 = explain.integrated_gradients(m32, x.astype(np.float32), target=t, method="exact")
    assert e32.dtype == np.float32
    np.testing.assert_allclose(e32, exact, rtol=1e-3, atol=1e-4 * np.abs(exact).max())


@pytest.mark.parametrize("case, match", [
    ("tanh_hidden", "not piecewise linear"),
    ("layernorm", "LayerNormalization"),
    ("softmax", "softmax"),
    ("sigmoid_then_dense", "not piecewise linear"),
    ("relu_jump", "jumps"),
])
def test_exact_refuses_what_it_cannot_integrate(case, match):
    if case == "tanh_hidden":
        m = _net("tanh")
    elif case == "layernorm":
        m = _relu_net(extra=(layers.LayerNormalization(),))
    elif case == "softmax":
        m = _relu_net(final="softmax")
    elif case == "sigmoid_then_dense":
        m = _net("relu", widths=(4, 4))
        m = fastnn.Sequential([layers.Input(shape=(D,)), _dense(4, "relu", 1), _dense(4, "sigmoid", 2),
                               _dense(2, None, 3)], dtype="float64")
    else:
        m = _net(Activation("relu", threshold=0.2))
    with pytest.raises(ValueError, match=match):
        explain.integrated_gradients(m, _x(2), target=0, method="exact")


# ------------------------------------------------------------------------------------------ axioms
def _linear_model(dtype="float64"):
    fastnn.utils.set_random_seed(1)
    m = fastnn.Sequential([layers.Input(shape=(D,)), _dense(1, None, 4)], dtype=dtype)
    return m, m.get_weights()[0][:, 0]


@pytest.mark.parametrize("method", explain.METHODS)
@pytest.mark.parametrize("n_steps", [2, 3, 17, 50])
def test_linear_model_integrated_gradients_are_exact(method, n_steps):
    m, w = _linear_model()
    x, b = _x(7), _x(1, seed=5)
    attr = explain.integrated_gradients(m, x, baselines=b, n_steps=n_steps, method=method)
    # captum's trapezoid weights sum to 1 - 1/n_steps
    factor = 1 - 1 / n_steps if method == "riemann_trapezoid" else 1.0
    np.testing.assert_allclose(attr, factor * (x - b) * w, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(explain.input_gradients(m, x), np.broadcast_to(w, x.shape), rtol=1e-15)


@pytest.mark.parametrize("method", explain.METHODS)
def test_a_feature_without_incoming_weights_gets_zero(method):
    m = _relu_net(final="sigmoid")
    ws = m.get_weights()
    ws[0][2, :] = 0.0
    m.set_weights(ws)
    x = _x(6, seed=2)
    t = np.arange(6) % 3
    for attr in (explain.integrated_gradients(m, x, target=t, method=method, baselines=-0.5),
                 explain.input_gradients(m, x, target=t), explain.smoothgrad(m, x, target=t, nt_samples=4)):
        assert np.all(attr[:, 2] == 0.0)
        assert np.abs(attr).max() > 0


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "exact"])
def test_permuting_hidden_units_changes_nothing(method):
    m = _relu_net(final="sigmoid")
    ws = m.get_weights()
    p = np.random.default_rng(0).permutation(10)
    q = np.random.default_rng(1).permutation(10)
    perm = [ws[0][:, p], ws[1][p], ws[2][p][:, q], ws[3][q], ws[4][q], ws[5]]
    m2 = _twin(m, "float64")
    m2.set_weights(perm)
    x = _x(8, seed=3)
    t = np.arange(8) % 3
    a = explain.integrated_gradients(m, x, target=t, method=method, baselines=0.3)
    b = explain.integrated_gradients(m2, x, target=t, method=method, baselines=0.3)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_results_do_not_depend_on_internal_batch_size():
    m = _relu_net()
    x = _x(9)
    t = np.arange(9) % 3
    ref = explain.integrated_gradients(m, x, target=t, n_steps=20)
    for ibs in (1, 7, 20, 41, 10_000):
        np.testing.assert_array_equal(explain.integrated_gradients(m, x, target=t, n_steps=20,
                                                                   internal_batch_size=ibs), ref)


# ------------------------------------------------------------------------------------------ smoothgrad
def test_smoothgrad_without_noise_equals_the_inner_attribution():
    m = _net("tanh", final="sigmoid")
    x = _x(5)
    t = np.arange(5) % 3
    np.testing.assert_allclose(explain.smoothgrad(m, x, target=t, stdevs=0.0, nt_samples=3),
                               explain.input_gradients(m, x, target=t), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(
        explain.smoothgrad(m, x, target=t, stdevs=0.0, nt_samples=3, inner="integrated_gradients", n_steps=10,
                           baselines=0.2),
        explain.integrated_gradients(m, x, target=t, n_steps=10, baselines=0.2), rtol=1e-13, atol=1e-16)
    g = explain.input_gradients(m, x, target=t)
    np.testing.assert_allclose(explain.smoothgrad(m, x, target=t, stdevs=0.0, nt_type="smoothgrad_sq"), g * g,
                               rtol=1e-13)
    np.testing.assert_allclose(explain.smoothgrad(m, x, target=t, stdevs=0.0, nt_type="vargrad"), 0.0, atol=1e-15)


def test_smoothgrad_is_reproducible_and_noise_is_absolute():
    m = _net("tanh", final="sigmoid")
    x = _x(5)
    a = explain.smoothgrad(m, x, target=1, random_state=3)
    np.testing.assert_array_equal(a, explain.smoothgrad(m, x, target=1, random_state=3))
    np.testing.assert_array_equal(a, explain.smoothgrad(m, x, target=1, random_state=np.random.default_rng(3)))
    assert not np.array_equal(a, explain.smoothgrad(m, x, target=1, random_state=4))
    # the mean of the gradients at x + noise drawn with stdevs, in x's units
    noise = np.random.default_rng(3).standard_normal((5, 50, D)) * 0.15
    want = np.stack([explain.input_gradients(m, x[i] + noise[i], target=1).mean(axis=0) for i in range(5)])
    np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-15)


def test_smoothgrad_of_a_linear_model():
    m, w = _linear_model()
    x = _x(4)
    np.testing.assert_allclose(explain.smoothgrad(m, x, stdevs=2.0), np.broadcast_to(w, x.shape), rtol=1e-13)
    np.testing.assert_allclose(explain.smoothgrad(m, x, stdevs=2.0, nt_type="vargrad"), 0.0, atol=1e-14)
    np.testing.assert_allclose(explain.smoothgrad(m, x, stdevs=np.linspace(0, 1, D), nt_type="smoothgrad_sq"),
                               np.broadcast_to(w * w, x.shape), rtol=1e-13)


# ------------------------------------------------------------------------------------------ estimators
class _FakeEstimator:
    """Stands for a fitted fastnn.sklearn estimator: the model in `model_`."""

    def __init__(self, model=None):
        if model is not None:
            self.model_ = model

    def fit(self, x, y):
        return self


def test_an_estimator_holding_a_model_is_accepted():
    m = _net("tanh", final="sigmoid")
    x = _x(4)
    est = _FakeEstimator(m)
    np.testing.assert_array_equal(explain.input_gradients(est, x, target=2), explain.input_gradients(m, x, target=2))
    np.testing.assert_array_equal(explain.integrated_gradients(est, x, target=0),
                                  explain.integrated_gradients(m, x, target=0))
    with pytest.raises(TypeError, match="not fitted"):
        explain.input_gradients(_FakeEstimator(), x, target=0)


@pytest.mark.parametrize("module", ["sklearn.neural_network", "fastnn.sklearn"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regressor"])
def test_fitted_mlp_estimators_are_accepted(module, kind):
    """scikit-learn-style MLPs (coefs_, intercepts_): gradients of their predict_proba / predict."""
    import importlib
    import warnings

    pytest.importorskip("sklearn")
    mod = importlib.import_module(module)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    if kind == "regressor":
        est = mod.MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", max_iter=30, random_state=0)
        y = x[:, 0] - x[:, 1] ** 2
    else:
        est = mod.MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=30, random_state=0)
        y = (x[:, 0] > 0).astype(int) + (kind == "multiclass") * (x[:, 1] > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(x, y)
    if kind == "regressor":
        f = est.predict
    elif kind == "binary":
        def f(z):
            return est.predict_proba(z)[:, 1]
    else:
        def f(z):
            return est.predict_proba(z)[:, 2]
    xs = x[:5]
    fd = np.zeros_like(xs)
    for c in range(4):
        xp, xm = xs.copy(), xs.copy()
        xp[:, c] += 1e-6
        xm[:, c] -= 1e-6
        fd[:, c] = (f(xp) - f(xm)) / 2e-6
    got = explain.input_gradients(est, xs, target=2 if kind == "multiclass" else None)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-9)
    with pytest.raises(TypeError, match="not fitted"):
        explain.input_gradients(mod.MLPRegressor(), xs)


# ------------------------------------------------------------------------------------------ bad input
def test_bad_arguments_give_clear_errors():
    m = _net("tanh", final="sigmoid")
    x = _x(3)
    with pytest.raises(ValueError, match="target: the model has 3 outputs"):
        explain.input_gradients(m, x)
    with pytest.raises(ValueError, match=r"target: output indices must be in \[0, 3\)"):
        explain.input_gradients(m, x, target=3)
    with pytest.raises(ValueError, match="target: expected one index per row"):
        explain.input_gradients(m, x, target=[0, 1])
    with pytest.raises(TypeError, match="target"):
        explain.input_gradients(m, x, target=1.5)
    with pytest.raises(TypeError, match="target"):
        explain.input_gradients(m, x, target=True)
    with pytest.raises(TypeError, match="model: expected a fastnn Model"):
        explain.input_gradients("model", x, target=0)
    with pytest.raises(ValueError, match=r"x: expected samples of shape \(6,\)"):
        explain.input_gradients(m, np.zeros((3, 5)), target=0)
    with pytest.raises(ValueError, match="x: contains NaN"):
        explain.input_gradients(m, np.full((3, D), np.nan), target=0)
    with pytest.raises(ValueError, match="method: expected one of"):
        explain.integrated_gradients(m, x, target=0, method="simpson")
    with pytest.raises(ValueError, match="n_steps"):
        explain.integrated_gradients(m, x, target=0, n_steps=0)
    with pytest.raises(ValueError, match="n_steps: riemann_left needs at least 2"):
        explain.integrated_gradients(m, x, target=0, n_steps=1, method="riemann_left")
    with pytest.raises(ValueError, match="baselines: expected a scalar or an array of shape"):
        explain.integrated_gradients(m, x, target=0, baselines=np.zeros(4))
    with pytest.raises(ValueError, match="baselines: expected a number, an array, 'mean'"):
        explain.integrated_gradients(m, x, target=0, baselines="median")
    with pytest.raises(ValueError, match="baselines: contains NaN"):
        explain.integrated_gradients(m, x, target=0, baselines=np.nan)
    with pytest.raises(ValueError, match="internal_batch_size"):
        explain.integrated_gradients(m, x, target=0, internal_batch_size=0)
    with pytest.raises(ValueError, match="nt_samples"):
        explain.smoothgrad(m, x, target=0, nt_samples=0)
    with pytest.raises(ValueError, match="stdevs"):
        explain.smoothgrad(m, x, target=0, stdevs=-1.0)
    with pytest.raises(ValueError, match="nt_type"):
        explain.smoothgrad(m, x, target=0, nt_type="median")
    with pytest.raises(ValueError, match="inner"):
        explain.smoothgrad(m, x, target=0, inner="saliency")
    with pytest.raises(TypeError, match="unexpected arguments"):
        explain.smoothgrad(m, x, target=0, n_steps=5)
    with pytest.raises(TypeError, match="unexpected arguments"):
        explain.smoothgrad(m, x, target=0, inner="integrated_gradients", return_convergence_delta=True)
    with pytest.raises(ValueError, match="random_state"):
        explain.smoothgrad(m, x, target=0, random_state="seed")
    unbuilt = fastnn.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        explain.input_gradients(unbuilt, x, target=0)


# ------------------------------------------------------------------------------------------ captum
def _captum():
    pytest.importorskip("torch")
    return pytest.importorskip("captum.attr", reason="captum is not installed (pip install captum)")


def _torch_twin(model):
    """A torch.nn.Sequential computing the same function in float64 (eval mode)."""
    import torch

    mods = []
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
            "softplus": torch.nn.Softplus, "linear": torch.nn.Identity}
    for layer in model.layers:
        ws = [torch.tensor(np.asarray(w, dtype=np.float64)) for w in layer.get_weights()]
        if isinstance(layer, layers.Dense):
            lin = torch.nn.Linear(ws[0].shape[0], ws[0].shape[1]).double()
            with torch.no_grad():
                lin.weight.copy_(ws[0].T)
                lin.bias.copy_(ws[1])
            mods.append(lin)
            if layer.activation.name == "softmax":
                mods.append(torch.nn.Softmax(dim=1))
            else:
                mods.append(acts[layer.activation.name]())
        elif isinstance(layer, layers.BatchNormalization):
            bn = torch.nn.BatchNorm1d(ws[0].shape[0], eps=layer.epsilon).double()
            with torch.no_grad():
                bn.weight.copy_(ws[0])
                bn.bias.copy_(ws[1])
                bn.running_mean.copy_(ws[2])
                bn.running_var.copy_(ws[3])
            mods.append(bn)
        elif isinstance(layer, layers.Dropout):
            mods.append(torch.nn.Dropout(layer.rate))
    return torch.nn.Sequential(*mods).eval()


@pytest.fixture
def float64_default():
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # captum's Riemann points come from torch.linspace
    yield
    torch.set_default_dtype(old)


def _captum_case():
    m = _net("tanh", final="softmax", extra=(layers.BatchNormalization(), layers.Dropout(0.4)), std=0.8)
    rng = np.random.default_rng(2)
    m.set_weights([w + 0.2 * rng.random(w.shape) for w in m.get_weights()])
    return m, _x(11, seed=5), np.arange(11) % 3


def test_saliency_and_input_x_gradient_match_captum(float64_default):
    ca = _captum()
    import torch

    m, x, t = _captum_case()
    tm = _torch_twin(m)
    xt = torch.tensor(x, requires_grad=True)
    np.testing.assert_allclose(tm(xt).detach().numpy(), m.predict(x, verbose=0), rtol=1e-12, atol=1e-15)
    tt = torch.tensor(t)
    sal = ca.Saliency(tm).attribute(xt, target=tt, abs=False).detach().numpy()
    np.testing.assert_allclose(explain.input_gradients(m, x, target=t), sal, rtol=1e-6, atol=1e-12)
    ixg = ca.InputXGradient(tm).attribute(xt, target=tt).detach().numpy()
    np.testing.assert_allclose(explain.input_x_gradient(m, x, target=t), ixg, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("method", QUADRATURE)
@pytest.mark.parametrize("n_steps", [2, 7, 50])
def test_integrated_gradients_match_captum(float64_default, method, n_steps):
    ca = _captum()
    import torch

    m, x, t = _captum_case()
    tm = _torch_twin(m)
    b = _x(1, seed=8)
    ig = ca.IntegratedGradients(tm)
    want, want_delta = ig.attribute(torch.tensor(x), baselines=torch.tensor(b), target=torch.tensor(t),
                                    n_steps=n_steps, method=method, return_convergence_delta=True)
    got, delta = explain.integrated_gradients(m, x, target=t, baselines=b, n_steps=n_steps, method=method,
                                              return_convergence_delta=True)
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-6, atol=1e-12)
    # captum multiplies by its step sizes cast to float32 (a relative 6e-8), which bounds how closely the
    # two deltas, small differences of large sums, can agree
    tol = 1e-6 * np.abs(got).sum(axis=1) + 1e-12
    assert np.all(np.abs(delta - want_delta.detach().numpy()) <= tol)
