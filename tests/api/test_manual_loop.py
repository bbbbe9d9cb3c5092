"""The PyTorch-style manual loop: optimizer.build(model.parameters()), zero_grad, model(x,
training=True), loss, backward, step.

The manual loop and fit() run the same native code in the same order on the same batches (forward
with cached activations, the same fused loss gradient, backward, then the same optimizer update
over the parameter arena), so with shuffle=False the weights agree bitwise, not just to a
tolerance."""
import numpy as np
import pytest

import fastnn
from fastnn import layers


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1).astype(np.float32)
    return x, y


def _model(seed=0, extra=()):
    fastnn.utils.set_random_seed(seed)
    return fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(16, activation="relu"), *extra,
                              layers.Dense(2)])


def _manual(model, optimizer, criterion, x, y, batch_size, epochs, order="keras"):
    optimizer.build(model.parameters())
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):
            inputs, labels = x[i:i + batch_size], y[i:i + batch_size]
            optimizer.zero_grad()
            outputs = model(inputs, training=True)
            loss = criterion(labels, outputs) if order == "keras" else criterion(outputs, labels)
            loss.backward()
            optimizer.step()
    return model


@pytest.mark.parametrize("make_opt", [
    lambda: fastnn.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    lambda: fastnn.optimizers.Adam(learning_rate=0.01),
])
def test_manual_loop_equals_fit_bitwise(make_opt):
    x, y = _data()
    a = _model()
    a.compile(optimizer=make_opt(), loss="mse")
    a.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    b = _manual(_model(), make_opt(), fastnn.losses.MeanSquaredError(), x, y, 16, 3)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)
    assert b.optimizer.iterations == a.optimizer.iterations == 15


def test_manual_loop_with_fused_crossentropy_and_batchnorm_equals_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    fastnn.utils.set_random_seed(2)
    a = fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(8), layers.BatchNormalization(),
                           layers.Activation("relu"), layers.Dense(3, activation="softmax")])
    b = fastnn.Sequential.from_config(a.get_config())
    b.set_weights(a.get_weights())
    a.compile(fastnn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    a.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    _manual(b, fastnn.optimizers.SGD(0.1), fastnn.losses.SparseCategoricalCrossentropy(), x, y, 16, 2)
    for p, q in zip(a.get_weights(), b.get_weights()):     # includes the moving statistics
        np.testing.assert_array_equal(p, q)


def test_loss_value_and_gradients():
    x, y = _data(n=16)
    m = _model()
    opt = fastnn.optimizers.SGD(0.1)
    opt.build(m.parameters())
    opt.zero_grad()
    out = m(x, training=True)
    loss = fastnn.losses.MeanSquaredError()(y, out)
    assert float(loss) == pytest.approx(np.mean((np.asarray(out, np.float64) - y) ** 2), rel=1e-5)
    assert all(not v.grad.any() for v in m.trainable_weights)
    loss.backward()
    g1 = [v.grad.copy() for v in m.trainable_weights]
    assert all(g.any() for g in g1)
    # backward accumulates until zero_grad, as in PyTorch.
    out = m(x, training=True)
    fastnn.losses.MeanSquaredError()(y, out).backward()
    for v, g in zip(m.trainable_weights, g1):
        np.testing.assert_allclose(v.grad, 2 * g, rtol=1e-6)
    before = [np.asarray(v) for v in m.trainable_weights]
    opt.step()
    for v, w, g in zip(m.trainable_weights, before, g1):
        np.testing.assert_allclose(np.asarray(v), w - 0.1 * 2 * g, rtol=1e-5, atol=1e-7)
    opt.zero_grad()
    assert all(not v.grad.any() for v in m.trainable_weights)


def test_backward_after_another_forward_pass_raises():
    x, y = _data(n=8)
    m = _model()
    fastnn.optimizers.SGD(0.1).build(m.parameters())
    out = m(x, training=True)
    loss = fastnn.losses.MeanSquaredError()(y, out)
    m(x, training=True)
    with pytest.raises(RuntimeError, match="another forward pass"):
        loss.backward()
    plain = fastnn.losses.MeanSquaredError()(y, np.zeros_like(y))
    with pytest.raises(RuntimeError, match="not computed from a model"):
        plain.backward()


def test_step_without_build_raises():
    with pytest.raises(RuntimeError, match="not bound"):
        fastnn.optimizers.SGD(0.1).step()


def test_pytorch_argument_order_criterion_outputs_labels():
    x, y = _data()
    a = _model()
    a.compile(optimizer=fastnn.optimizers.SGD(0.05), loss="mse")
    a.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    b = _manual(_model(), fastnn.optimizers.SGD(0.05), fastnn.losses.MeanSquaredError(), x, y, 16, 1,
                order="torch")
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)
