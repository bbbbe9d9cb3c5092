"""The fused small-network CUDA kernel's step, emulated on the CPU: fastnn._testing.fused_emulate runs
the phase functions the kernel runs between its barriers (fastnn/device/fused_mlp.h), each phase over
every thread index in turn. The reference is the CPU engine's own training step on the same model,
weights and batches; the emulation must agree within float32 tolerance (other summation orders),
and give the same bits whatever the number of threads (each value has one owner and a fixed order)."""
import numpy as np
import pytest

import fastnn
from fastnn import _testing


def _model(din, units, acts, loss, opt, seed=5):
    layers = [fastnn.layers.Input((din,))]
    layers += [fastnn.layers.Dense(u, activation=a) for u, a in zip(units, acts)]
    m = fastnn.Sequential(layers, seed=seed)
    m.compile(optimizer=opt, loss=loss)
    return m


def _fused_layers(m):
    e = m._engine
    out, width = [], int(e.input_dim)
    for kind, attrs in e._natives:
        assert kind == "dense"
        out.append((width, int(attrs["units"]), bool(attrs["use_bias"]), attrs.get("activation")))
        width = int(attrs["units"])
    return out


def _labels(rng, n, out, kind):
    return {"real": lambda: rng.standard_normal((n, out)),
            "binary": lambda: (rng.random((n, out)) > 0.5),
            "onehot": lambda: np.eye(out)[rng.integers(0, out, n)],
            "sparse": lambda: rng.integers(0, out, (n, 1)),
            "counts": lambda: rng.poisson(2.0, (n, out))}[kind]().astype("float32")


def _run_both(m, x, y, w=None, perm=None, batch=16, threads=64):
    """(emulated params, state, losses), (engine params, state, loss sum) after one epoch."""
    e = m._engine
    n = x.shape[0]
    steps = -(-n // batch)
    p0 = e.arena()
    r = _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config, p0, x, y, w, perm,
                               batch, steps, threads)
    assert not isinstance(r, str), r
    params, state, _grads, losses, bad, _pred, _shared = r
    assert not bad
    out = e.train(x, y, w, perm, batch, 0, steps, False)
    return (params, state, losses), (e.arena(), e.optimizer_state(), float(out[0]))


CASES = [
    # din, units, activations, loss, label kind
    (8, (10, 10, 1), ("relu", "relu", "sigmoid"), "binary_crossentropy", "binary"),
    (5, (32, 3), ("tanh", None), "mse", "real"),
    (6, (16, 16, 4), ("gelu", "elu", "softmax"), "categorical_crossentropy", "onehot"),
    (7, (128, 5), ("silu", "softmax"), "sparse_categorical_crossentropy", "sparse"),
    (4, (12, 2), ("leaky_relu", None), "huber", "real"),
    (4, (9, 2), ("softsign", "softplus"), "poisson", "counts"),
    (3, (20, 3), ("sigmoid", None), "log_cosh", "real"),
]


@pytest.mark.parametrize("din, units, acts, loss, labels", CASES, ids=lambda v: str(v))
def test_emulated_step_matches_the_cpu_engine(din, units, acts, loss, labels):
    rng = np.random.default_rng(1)
    n = 80
    x = rng.standard_normal((n, din)).astype("float32")
    y = _labels(rng, n, units[-1], labels)
    m = _model(din, units, acts, loss, fastnn.optimizers.Adam(1e-2))
    (p, s, losses), (pc, sc, loss_sum) = _run_both(m, x, y, batch=16)
    np.testing.assert_allclose(p, pc, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(s, sc, rtol=2e-3, atol=1e-6)
    # the engine's loss sum is sum over batches of (batch loss / rows) * rows
    np.testing.assert_allclose(losses.sum(), loss_sum, rtol=1e-4)


@pytest.mark.parametrize("opt", [
    fastnn.optimizers.SGD(0.05), fastnn.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    fastnn.optimizers.Adam(1e-2, amsgrad=True), fastnn.optimizers.AdamW(1e-2),
    fastnn.optimizers.RMSprop(1e-2, momentum=0.5, centered=True), fastnn.optimizers.RMSprop(1e-2),
    fastnn.optimizers.Adagrad(0.05), fastnn.optimizers.Adadelta(1.0), fastnn.optimizers.Adamax(1e-2),
    fastnn.optimizers.Nadam(1e-2), fastnn.optimizers.Lion(1e-3), fastnn.optimizers.SGD(0.05, clipvalue=0.01),
], ids=lambda o: type(o).__name__)
def test_every_optimizer_with_shuffle_and_sample_weights(opt):
    rng = np.random.default_rng(2)
    n = 70  # the last batch is short
    x = rng.standard_normal((n, 6)).astype("float32")
    y = rng.standard_normal((n, 2)).astype("float32")
    w = rng.random(n).astype("float32")
    perm = rng.permutation(n).astype("int64")
    m = _model(6, (24, 2), ("relu", None), "mse", opt)
    (p, s, _), (pc, sc, _) = _run_both(m, x, y, w, perm, batch=16)
    np.testing.assert_allclose(p, pc, rtol=5e-4, atol=5e-5)
    np.testing.assert_allclose(s, sc, rtol=5e-3, atol=1e-5)


def test_results_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 8)).astype("float32")
    y = (rng.random((50, 1)) > 0.5).astype("float32")
    m = _model(8, (10, 10, 1), ("relu", "relu", "sigmoid"), "binary_crossentropy", "adam")
    e = m._engine
    runs = [_testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config, e.arena(), x, y,
                                   None, None, 16, 4, threads) for threads in (1, 7, 32, 256)]
    for r in runs[1:]:
        for a, b in zip(r[:4], runs[0][:4]):
            np.testing.assert_array_equal(a, b)


def test_outputs_and_bad_labels():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((32, 5)).astype("float32")
    m = _model(5, (8, 3), ("tanh", "softmax"), "sparse_categorical_crossentropy", "sgd")
    e = m._engine
    y = rng.integers(0, 3, (32, 1)).astype("float32")
    r = _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config, e.arena(), x, y,
                               None, None, 32, 1, 16)
    # one step of one batch: the outputs are the forward pass before the update
    np.testing.assert_allclose(r[5], m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    y[3] = 7
    r = _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config, e.arena(), x, y,
                               None, None, 32, 1, 16)
    assert r[4] is True


def test_where_the_fused_step_does_not_apply():
    m = _model(4, (129, 1), ("relu", None), "mse", "adam")
    e = m._engine
    x = np.zeros((8, 4), "float32")
    y = np.zeros((8, 1), "float32")
    assert "width above 128" in _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config,
                                                       e.arena(), x, y)
    m = _model(4, (8, 1), ("relu", None), "hinge", "adam")
    e = m._engine
    assert "hinge" in _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config, e.arena(), x, y)
    m = _model(4, (8, 1), ("relu", None), "mse", fastnn.optimizers.Adam(clipnorm=1.0))
    e = m._engine
    assert "norm" in _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config, e.arena(), x, y)
    m = _model(4, (64, 64, 1), ("relu", "relu", None), "mse", "adam")
    e = m._engine
    assert "shared memory" in _testing.fused_emulate(_fused_layers(m), e._loss_spec, e._opt_config,
                                                     e.arena(), x, y, max_shared=4096)
