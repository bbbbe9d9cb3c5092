"""Whole-network gradients (every kernel and bias, and the input gradient dX) of the native engine
against central finite differences in float64, for every activation, every loss, normalization and
dropout layers, and weight regularizers.

dX comes from the engine's input gradient: the gradient of sum(output * weights) with respect to the
input in inference mode, compared with the finite differences of sum(predict(x) * weights)."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import layers
from fastnn import losses as L
from fastnn.activations import Activation
from fastnn.initializers import RandomNormal

D = 6   # input width
N = 6   # batch

HIDDEN = {
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


def _dense(units, act, seed, std=0.9):
    return layers.Dense(units, activation=act, kernel_initializer=RandomNormal(stddev=std, seed=seed),
                        bias_initializer=RandomNormal(stddev=0.3, seed=seed + 100))


def _model(body, seed=0):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(D,))] + body, dtype="float64")
    opt = fastnn.optimizers.SGD(1.0)
    opt.build(m.parameters())
    return m, opt


def _three_layer(hidden, final, n_out, seed=0, std=0.9):
    return _model([_dense(7, hidden, seed + 1, std), _dense(5, hidden, seed + 2, std),
                   _dense(n_out, final, seed + 3, std)], seed)


def _x(seed=0):
    return np.random.default_rng(seed).normal(0, 1, (N, D))


def _grads(model, opt, loss, x, y, w=None):
    opt.zero_grad()
    out = model(x, training=True)
    lv = loss(y, out, sample_weight=w)
    lv.backward()
    return float(lv), [v.grad.copy() for v in model.weights]


def _input_gradient(model, x, weights):
    """The engine's d sum(model(x) * weights) / dx (inference mode)."""
    net = model._engine
    return net.input_gradient(np.ascontiguousarray(x, dtype=model.dtype),
                              np.ascontiguousarray(weights, dtype=model.dtype))


def _check_input_gradient(model, x, rtol=1e-6, seed=0):
    weights = np.random.default_rng(seed + 50).normal(size=(x.shape[0], int(model._engine.output_dim)))
    dx = _input_gradient(model, x, weights)
    assert dx.shape == x.shape and dx.dtype == np.float64
    fdx = np.zeros_like(x)
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            h = 1e-6 * max(1.0, abs(x[r, c]))
            xp = x.copy()
            xp[r, c] += h
            xm = x.copy()
            xm[r, c] -= h
            fdx[r, c] = (np.sum(model.predict(xp, verbose=0) * weights)
                         - np.sum(model.predict(xm, verbose=0) * weights)) / (2 * h)
    scale = max(np.abs(fdx).max(), 1e-3)
    np.testing.assert_allclose(dx, fdx, rtol=rtol, atol=rtol * scale * 1e-2, err_msg="dX")
    assert np.abs(fdx).max() > 0  # the input matters
    return dx


def _value(model, loss, x, y, w=None):
    return float(loss(y, model(x, training=True), sample_weight=w))


def _check_network(model, opt, loss, x, y, w=None, rtol=1e-6):
    value, grads = _grads(model, opt, loss, x, y, w)
    assert np.isfinite(value)
    assert value == pytest.approx(_value(model, loss, x, y, w), rel=1e-14)
    trainable = [v.index for v in model.trainable_weights]
    # every trainable variable, entry by entry
    for v in model.weights:
        if v.index not in trainable:
            assert np.all(grads[v.index] == 0), v.name
            continue
        w0 = v.numpy().copy()
        fd = np.zeros(w0.size)
        flat = w0.reshape(-1)
        for i in range(flat.size):
            h = 1e-6 * max(1.0, abs(flat[i]))
            wp = flat.copy()
            wp[i] += h
            v.assign(wp.reshape(w0.shape))
            fp = _value(model, loss, x, y, w)
            wp[i] -= 2 * h
            v.assign(wp.reshape(w0.shape))
            fm = _value(model, loss, x, y, w)
            fd[i] = (fp - fm) / (2 * h)
        v.assign(w0)
        scale = max(np.abs(fd).max(), 1e-3)
        np.testing.assert_allclose(grads[v.index].reshape(-1), fd, rtol=rtol, atol=rtol * scale * 1e-2,
                                   err_msg=v.name)
    # dX: the engine's input gradient (inference mode)
    _check_input_gradient(model, x, rtol)
    return grads


# ------------------------------------------------------------------------------------------------
# every activation as the hidden activation (MSE, linear output)
# ------------------------------------------------------------------------------------------------
def test_every_activation_and_loss_is_covered():
    assert {a.spec()[0] for a in HIDDEN.values()} == set(fastnn.activations._KIND.values())
    assert {type(v[0]).kind for v in LOSSES.values()} == set(L._KIND)


@pytest.mark.parametrize("hidden", sorted(HIDDEN))
def test_hidden_activations(hidden):
    # small weights for exponential: exp(exp(.)) overflows otherwise
    model, opt = _three_layer(HIDDEN[hidden], None, 3, std=0.3 if hidden == "exponential" else 0.9)
    x = _x()
    y = np.random.default_rng(1).normal(size=(N, 3))
    grads = _check_network(model, opt, L.MeanSquaredError(), x, y)
    assert all(np.abs(g).max() > 0 for g in grads), "every variable gets a gradient"


# ------------------------------------------------------------------------------------------------
# every loss, with a suitable output activation and targets
# ------------------------------------------------------------------------------------------------
def _t_normal(rng, k):
    return rng.normal(size=(N, k))


def _t_binary(rng, k):
    return rng.integers(0, 2, (N, k)).astype(float)


def _t_onehot(rng, k):
    return np.eye(k)[rng.permutation(np.arange(N) % k)]


def _t_sparse(rng, k):
    return rng.permutation(np.arange(N) % k).astype(float)


def _t_probs(rng, k):
    a = rng.uniform(0.1, 1, (N, k))
    return a / a.sum(1, keepdims=True)


LOSSES = {
    "mse": (L.MeanSquaredError(), None, _t_normal),
    "mae": (L.MeanAbsoluteError(), None, _t_normal),
    "mape": (L.MeanAbsolutePercentageError(), None, lambda r, k: r.uniform(0.5, 2, (N, k))),
    "msle": (L.MeanSquaredLogarithmicError(), "softplus", lambda r, k: r.uniform(0, 3, (N, k))),
    "huber": (L.Huber(delta=0.5), None, _t_normal),
    "log_cosh": (L.LogCosh(), None, _t_normal),
    "bce_sigmoid": (L.BinaryCrossentropy(), "sigmoid", _t_binary),
    "bce_sigmoid_smooth": (L.BinaryCrossentropy(label_smoothing=0.2), "sigmoid", _t_binary),
    "bce_logits": (L.BinaryCrossentropy(from_logits=True), None, _t_binary),
    "bce_hard_sigmoid_probs": (L.BinaryCrossentropy(), "hard_sigmoid", _t_binary),
    "cce_softmax": (L.CategoricalCrossentropy(), "softmax", _t_onehot),
    "cce_softmax_smooth": (L.CategoricalCrossentropy(label_smoothing=0.1), "softmax", _t_onehot),
    "cce_logits": (L.CategoricalCrossentropy(from_logits=True), None, _t_onehot),
    "cce_softplus_probs": (L.CategoricalCrossentropy(), "softplus", _t_onehot),
    "scce_softmax": (L.SparseCategoricalCrossentropy(), "softmax", _t_sparse),
    "scce_logits": (L.SparseCategoricalCrossentropy(from_logits=True), None, _t_sparse),
    "hinge": (L.Hinge(), None, lambda r, k: r.choice([-1.0, 1.0], (N, k))),
    "squared_hinge": (L.SquaredHinge(), "tanh", lambda r, k: r.choice([-1.0, 1.0], (N, k))),
    "categorical_hinge": (L.CategoricalHinge(), None, _t_onehot),
    "kl_divergence": (L.KLDivergence(), "softmax", _t_probs),
    "poisson": (L.Poisson(), "softplus", lambda r, k: r.poisson(1.5, (N, k)).astype(float)),
    "cosine_similarity": (L.CosineSimilarity(), None, _t_normal),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses(name):
    loss, final, target = LOSSES[name]
    model, opt = _three_layer(HIDDEN["tanh"], final, 3, seed=2)
    y = target(np.random.default_rng(3), 3)
    _check_network(model, opt, loss, _x(1), y)


@pytest.mark.parametrize("name", ["mse", "bce_sigmoid", "cce_softmax", "scce_logits", "poisson"])
def test_losses_with_sample_weights(name):
    loss, final, target = LOSSES[name]
    model, opt = _three_layer(HIDDEN["silu"], final, 3, seed=4)
    y = target(np.random.default_rng(5), 3)
    w = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])
    grads_w = _check_network(model, opt, loss, _x(2), y, w)
    _, grads_1 = _grads(model, opt, loss, _x(2), y)
    assert not np.allclose(grads_w[-2], grads_1[-2])


def test_single_output_sigmoid_bce():
    """The seed network's head: one sigmoid unit with binary cross-entropy (the fused path)."""
    model, opt = _three_layer(HIDDEN["relu"], "sigmoid", 1, seed=6)
    y = np.random.default_rng(7).integers(0, 2, (N, 1)).astype(float)
    _check_network(model, opt, L.BinaryCrossentropy(), _x(3), y)


def test_fused_and_unfused_paths_agree():
    """sigmoid + BCE is computed from the logits, whether the sigmoid runs in the Dense layer's
    epilogue or in a separate Activation layer: same value and gradients."""
    fastnn.utils.set_random_seed(0)
    x, y = _x(4), np.random.default_rng(8).integers(0, 2, (N, 2)).astype(float)
    m1, o1 = _model([_dense(5, "tanh", 1), _dense(2, "sigmoid", 2)])
    m2, o2 = _model([_dense(5, "tanh", 1), _dense(2, None, 2), layers.Activation("sigmoid")])
    m2.set_weights(m1.get_weights())
    v1, g1 = _grads(m1, o1, L.BinaryCrossentropy(), x, y)
    v2, g2 = _grads(m2, o2, L.BinaryCrossentropy(), x, y)
    assert v1 == pytest.approx(v2, rel=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["bce_sigmoid", "bce_sigmoid_smooth", "cce_softmax", "cce_softmax_smooth",
                                  "scce_softmax", "kl_divergence"])
def test_loss_on_model_output_equals_loss_on_probabilities(name):
    """The manual loop's loss (computed from the logits where it fuses) equals the same loss evaluated
    on the output probabilities as plain numbers (away from clipping)."""
    loss, final, target = LOSSES[name]
    model, opt = _three_layer(HIDDEN["tanh"], final, 3, seed=13)
    x, y = _x(13), target(np.random.default_rng(14), 3)
    w = np.linspace(0.5, 1.5, N)
    out = model(x, training=True)
    fused = float(loss(y, out, sample_weight=w))
    plain, grad_p, _ = loss.value_and_grad(y, np.asarray(out).copy(), w)
    assert fused == pytest.approx(plain, rel=1e-12)
    # fit's loss (evaluate) is the same number
    model.compile(optimizer="sgd", loss=loss)
    assert model.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(plain, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# other layers
# ------------------------------------------------------------------------------------------------
def test_dropout_zero():
    model, opt = _model([_dense(7, "tanh", 1), layers.Dropout(0.0), _dense(5, "relu", 2), layers.Dropout(0.0),
                         _dense(2, None, 3)])
    _check_network(model, opt, L.MeanSquaredError(), _x(5), np.random.default_rng(9).normal(size=(N, 2)))


def test_dropout_backward_uses_the_forward_mask():
    """Identity -> Dropout(0.4) -> identity: the output reveals the mask, and both kernel gradients
    must use that same mask (scaled by 1 / (1 - rate))."""
    fastnn.utils.set_random_seed(3)
    d = 40
    m = fastnn.Sequential([layers.Input(shape=(d,)),
                           layers.Dense(d, use_bias=False, kernel_initializer="identity"),
                           layers.Dropout(0.4),
                           layers.Dense(d, use_bias=False, kernel_initializer="identity")], dtype="float64")
    opt = fastnn.optimizers.SGD(0.1)
    opt.build(m.parameters())
    rng = np.random.default_rng(4)
    x = rng.uniform(0.5, 1.5, (N, d))
    y = rng.normal(size=(N, d))
    opt.zero_grad()
    out = m(x, training=True)
    L.MeanSquaredError()(y, out).backward()
    a = np.asarray(out)
    scale = a / x  # mask / (1 - rate): 0 or 1 / 0.6
    assert set(np.round(np.unique(scale), 12)) == {0.0, round(1 / 0.6, 12)}
    assert 0.25 < np.mean(scale == 0) < 0.55
    dout = 2 * (a - y) / (N * d)
    np.testing.assert_allclose(m.weights[1].grad, a.T @ dout, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.weights[0].grad, x.T @ (dout * scale), rtol=1e-12, atol=1e-15)
    # inference: no dropout
    np.testing.assert_allclose(m.predict(x, verbose=0), x, rtol=1e-15)


def test_activation_layers():
    model, opt = _model([_dense(7, None, 1), layers.Activation("gelu"), _dense(5, None, 2),
                         layers.Activation("softmax"), _dense(3, "softmax", 3)])
    _check_network(model, opt, L.CategoricalCrossentropy(), _x(6), _t_onehot(np.random.default_rng(1), 3))


@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False)])
def test_batch_normalization(center, scale):
    model, opt = _model([_dense(7, "tanh", 1),
                         layers.BatchNormalization(center=center, scale=scale,
                                                   gamma_initializer=RandomNormal(1.0, 0.3, seed=4),
                                                   beta_initializer=RandomNormal(0.0, 0.3, seed=5)),
                         _dense(5, "elu", 2), _dense(2, None, 3)])
    names = [v.name for v in model.weights]
    assert any("moving_mean" in n for n in names) and (any("gamma" in n for n in names) == scale)
    _check_network(model, opt, L.MeanSquaredError(), _x(7), np.random.default_rng(10).normal(size=(N, 2)))


@pytest.mark.parametrize("center,scale", [(True, True), (False, False)])
def test_layer_normalization(center, scale):
    model, opt = _model([_dense(7, "relu", 1),
                         layers.LayerNormalization(center=center, scale=scale,
                                                   gamma_initializer=RandomNormal(1.0, 0.3, seed=4),
                                                   beta_initializer=RandomNormal(0.0, 0.3, seed=5)),
                         _dense(5, "tanh", 2), _dense(3, "softmax", 3)])
    _check_network(model, opt, L.CategoricalCrossentropy(), _x(8), _t_onehot(np.random.default_rng(2), 3))


def test_frozen_layer_gets_no_gradient_but_passes_it_on():
    model, opt = _three_layer(HIDDEN["tanh"], None, 2, seed=9)
    model.layers[1].trainable = False
    opt = fastnn.optimizers.SGD(1.0)
    opt.build(model.parameters())
    x, y = _x(9), np.random.default_rng(11).normal(size=(N, 2))
    _, grads = _grads(model, opt, L.MeanSquaredError(), x, y)
    before = model.get_weights()
    opt.step()
    after = model.get_weights()
    np.testing.assert_array_equal(before[2], after[2])  # frozen kernel not updated
    np.testing.assert_array_equal(before[3], after[3])
    assert not np.allclose(before[0], after[0])  # the layer below still learns
    np.testing.assert_allclose(before[0] - after[0], grads[0], rtol=1e-13, atol=1e-16)


# ------------------------------------------------------------------------------------------------
# regularizers: evaluate() includes the penalty; the step uses its gradient
# ------------------------------------------------------------------------------------------------
def test_regularizers_in_loss_and_gradient():
    fastnn.utils.set_random_seed(12)
    reg_k1 = fastnn.regularizers.L1L2(l1=0.01, l2=0.02)
    reg_b = fastnn.regularizers.L2(0.05)
    reg_k3 = fastnn.regularizers.L1(0.03)
    body = [layers.Dense(7, activation="tanh", kernel_regularizer=reg_k1, bias_regularizer=reg_b,
                         kernel_initializer=RandomNormal(stddev=0.8, seed=1),
                         bias_initializer=RandomNormal(stddev=0.3, seed=2)),
            _dense(5, "relu", 3),
            layers.Dense(2, kernel_regularizer=reg_k3, kernel_initializer=RandomNormal(stddev=0.8, seed=4))]
    m = fastnn.Sequential([layers.Input(shape=(D,))] + body, dtype="float64")
    opt = fastnn.optimizers.SGD(1.0)
    m.compile(optimizer=opt, loss="mse")
    x, y = _x(10), np.random.default_rng(12).normal(size=(N, 2))
    k1, b1, k2, b2, k3, b3 = m.get_weights()
    penalty = (0.01 * np.abs(k1).sum() + 0.02 * (k1 ** 2).sum() + 0.05 * (b1 ** 2).sum() + 0.03 * np.abs(k3).sum())
    data_loss = float(L.MeanSquaredError()(y, m.predict(x)))
    assert m.evaluate(x, y, verbose=0) == pytest.approx(data_loss + penalty, rel=1e-13)
    assert penalty > 0.1 * data_loss

    # the step applies (data gradient + penalty gradient); SGD with lr 1 makes it readable
    opt.zero_grad()
    out = m(x, training=True)
    lv = L.MeanSquaredError()(y, out)
    assert float(lv) == pytest.approx(data_loss, rel=1e-13)  # the manual loss has no penalty
    lv.backward()
    data_grads = [v.grad.copy() for v in m.weights]
    before = m.get_weights()
    opt.step()
    total = [b - a for b, a in zip(before, m.get_weights())]
    m.set_weights(before)
    pen_grads = [0.01 * np.sign(k1) + 0.04 * k1, 0.1 * b1, 0 * k2, 0 * b2, 0.03 * np.sign(k3), 0 * b3]
    for t, d, p in zip(total, data_grads, pen_grads):
        np.testing.assert_allclose(t, d + p, rtol=1e-12, atol=1e-15)
    # ... and equals the finite differences of evaluate()
    for vi, v in enumerate(m.weights):
        w0 = v.numpy().copy()
        flat = w0.reshape(-1)
        fd = np.zeros(flat.size)
        for i in range(flat.size):
            h = 1e-6
            wp = flat.copy()
            wp[i] += h
            v.assign(wp.reshape(w0.shape))
            fp = m.evaluate(x, y, verbose=0)
            wp[i] -= 2 * h
            v.assign(wp.reshape(w0.shape))
            fd[i] = (fp - m.evaluate(x, y, verbose=0)) / (2 * h)
        v.assign(w0)
        np.testing.assert_allclose(total[vi].reshape(-1), fd, rtol=1e-6, atol=1e-9, err_msg=v.name)


# ------------------------------------------------------------------------------------------------
# the input gradient on its own (attributions): every activation, both dtypes, no side effects
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", sorted(HIDDEN))
def test_input_gradient_every_activation(act):
    """Every activation as hidden and as output activation, against finite differences."""
    std = 0.3 if act == "exponential" else 0.9
    model, _ = _model([_dense(7, HIDDEN[act], 1, std), _dense(4, HIDDEN[act], 2, std)], seed=3)
    _check_input_gradient(model, _x(20), seed=1)


def test_input_gradient_float32_matches_float64():
    m64, _ = _three_layer(HIDDEN["gelu"], "softmax", 3, seed=21)
    fastnn.utils.set_random_seed(21)
    m32 = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(7, activation="gelu"),
                             layers.Dense(5, activation="gelu"), layers.Dense(3, activation="softmax")],
                            dtype="float32")
    m32.set_weights([w.astype(np.float32) for w in m64.get_weights()])
    x = _x(21)
    w = np.random.default_rng(22).normal(size=(N, 3))
    g64 = _input_gradient(m64, x, w)
    g32 = _input_gradient(m32, x.astype(np.float32), w.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5 * np.abs(g64).max())


def test_input_gradient_of_a_linear_network_is_the_weight_product():
    fastnn.utils.set_random_seed(5)
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(4), layers.Dense(2)], dtype="float64")
    k1, _b1, k2, _b2 = m.get_weights()
    w = np.random.default_rng(6).normal(size=(N, 2))
    np.testing.assert_allclose(_input_gradient(m, _x(23), w), w @ (k1 @ k2).T, rtol=1e-13, atol=1e-15)


def test_input_gradient_has_no_side_effects_and_ignores_the_row_split():
    """No parameter gradient written, weights unchanged, BatchNorm in inference mode (moving
    statistics even right after a training step), dropout off, rows independent of each other
    and of the thread count."""
    fastnn.utils.set_random_seed(7)
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(16, activation="tanh"),
                           layers.BatchNormalization(), layers.Dropout(0.5), layers.Dense(3)], dtype="float64")
    m.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(300, D)), rng.normal(size=(300, 3))
    m.fit(x, y, epochs=2, batch_size=32, verbose=0)
    m.train_on_batch(x[:32], y[:32])  # the last training pass used batch statistics
    grads_before = [v.grad.copy() for v in m.weights]
    weights_before = m.get_weights()
    w = rng.normal(size=(300, 3))
    full = _input_gradient(m, x, w)
    for a, b in zip(grads_before, [v.grad for v in m.weights]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights_before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_input_gradient(m, x[100:101], w[100:101]), full[100:101])
    old = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = _input_gradient(m, x, w)
        fastnn.set_num_threads(2)
        two = _input_gradient(m, x, w)
    finally:
        fastnn.set_num_threads(old)
    np.testing.assert_array_equal(one, full)
    np.testing.assert_array_equal(two, full)
    _check_input_gradient(m, x[:4], seed=3)


def test_input_gradient_rejects_bad_shapes():
    model, _ = _three_layer(HIDDEN["relu"], None, 3)
    with pytest.raises(ValueError, match="x"):
        _input_gradient(model, np.zeros((4, D + 1)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="output_weights"):
        _input_gradient(model, np.zeros((4, D)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="output_weights"):
        _input_gradient(model, np.zeros((4, D)), np.zeros((3, 3)))
    assert _input_gradient(model, np.zeros((0, D)), np.zeros((0, 3))).shape == (0, D)
