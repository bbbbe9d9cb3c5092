"""device="cuda" against device="cpu": the same model, weights and batches give the same training
trajectory, predictions and evaluation within float32 tolerance (the GPU sums in another order and
cuBLASLt picks its own kernels, so bits differ). Marked `cuda`: run with `pytest -m cuda` on a
machine with an NVIDIA GPU; skipped with the reason elsewhere."""
import numpy as np
import pytest

import fastnn
from fastnn import cuda

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not cuda.is_available(), reason=f"no usable GPU: {cuda.why_unavailable()}")]

DEVICES = ["cpu", "cuda"]


def _data(n=96, din=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, din)).astype("float32")
    return rng, x


def _pair(build, compile_kw, seed=3):
    """The same model twice (one per device) with identical weights."""
    models = {}
    for dev in DEVICES:
        m = build()
        m.compile(**compile_kw, device=dev)
        models[dev] = m
    models["cuda"].set_weights(models["cpu"].get_weights())
    return models


def _mlp(units=(16, 8), act="relu", out=1, out_act=None, din=5, dropout=0.0):
    def build():
        layers = [fastnn.layers.Input((din,))]
        for u in units:
            layers.append(fastnn.layers.Dense(u, activation=act))
            if dropout:
                layers.append(fastnn.layers.Dropout(dropout))
        layers.append(fastnn.layers.Dense(out, activation=out_act))
        return fastnn.Sequential(layers, seed=7)
    return build


def _fit_both(models, x, y, **kw):
    hist = {d: models[d].fit(x, y, verbose=0, shuffle=False, **kw).history["loss"] for d in DEVICES}
    return hist


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "gelu", "elu", "silu", "leaky_relu", "softplus"])
def test_activations_train_alike(act):
    rng, x = _data()
    y = np.sin(x[:, :1]).astype("float32")
    models = _pair(_mlp(act=act), dict(optimizer="adam", loss="mse"))
    h = _fit_both(models, x, y, epochs=3, batch_size=16)
    np.testing.assert_allclose(h["cuda"], h["cpu"], rtol=2e-4, atol=1e-6)
    for a, b in zip(models["cuda"].get_weights(), models["cpu"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("loss, out, out_act, labels", [
    ("mse", 3, None, "real"), ("mae", 3, None, "real"), ("huber", 3, None, "real"),
    ("log_cosh", 3, None, "real"), ("binary_crossentropy", 1, "sigmoid", "binary"),
    ("categorical_crossentropy", 4, "softmax", "onehot"),
    ("sparse_categorical_crossentropy", 4, "softmax", "sparse"),
    ("hinge", 1, None, "binary"), ("kl_divergence", 4, "softmax", "onehot"),
    ("poisson", 2, "softplus", "counts"), ("cosine_similarity", 3, None, "real"),
])
def test_losses_train_alike(loss, out, out_act, labels):
    rng, x = _data()
    n = x.shape[0]
    y = {"real": lambda: rng.standard_normal((n, out)),
         "binary": lambda: (rng.random((n, 1)) > 0.5),
         "onehot": lambda: np.eye(out)[rng.integers(0, out, n)],
         "sparse": lambda: rng.integers(0, out, (n, 1)),
         "counts": lambda: rng.poisson(2.0, (n, out))}[labels]().astype("float32")
    models = _pair(_mlp(out=out, out_act=out_act), dict(optimizer="sgd", loss=loss))
    h = _fit_both(models, x, y, epochs=2, batch_size=32)
    np.testing.assert_allclose(h["cuda"], h["cpu"], rtol=5e-4, atol=1e-6)
    ev = {d: models[d].evaluate(x, y, verbose=0) for d in DEVICES}
    np.testing.assert_allclose(ev["cuda"], ev["cpu"], rtol=5e-4, atol=1e-6)


@pytest.mark.parametrize("opt", [
    fastnn.optimizers.SGD(0.05), fastnn.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    fastnn.optimizers.Adam(1e-2), fastnn.optimizers.Adam(1e-2, amsgrad=True), fastnn.optimizers.AdamW(1e-2),
    fastnn.optimizers.RMSprop(1e-2, momentum=0.5, centered=True), fastnn.optimizers.Adagrad(0.05),
    fastnn.optimizers.Adadelta(1.0), fastnn.optimizers.Adamax(1e-2), fastnn.optimizers.Nadam(1e-2),
    fastnn.optimizers.Lion(1e-3), fastnn.optimizers.Adam(1e-2, clipnorm=0.1),
    fastnn.optimizers.SGD(0.05, global_clipnorm=0.1), fastnn.optimizers.SGD(0.05, clipvalue=0.01),
], ids=lambda o: type(o).__name__)
def test_optimizers_step_alike(opt):
    rng, x = _data()
    y = rng.standard_normal((x.shape[0], 1)).astype("float32")
    models = {}
    for dev in DEVICES:
        m = _mlp()()
        m.compile(optimizer=type(opt).from_config(opt.get_config()), loss="mse", device=dev)
        models[dev] = m
    models["cuda"].set_weights(models["cpu"].get_weights())
    h = _fit_both(models, x, y, epochs=3, batch_size=16)
    np.testing.assert_allclose(h["cuda"], h["cpu"], rtol=5e-4, atol=1e-6)
    for a, b in zip(models["cuda"].get_weights(), models["cpu"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-5)
    assert models["cuda"].optimizer.iterations == models["cpu"].optimizer.iterations


def test_shuffled_fit_with_sample_weights_and_regularizers():
    rng, x = _data(n=200)
    y = rng.standard_normal((200, 2)).astype("float32")
    w = rng.random(200).astype("float32")

    def build():
        return fastnn.Sequential([fastnn.layers.Input((5,)),
                                  fastnn.layers.Dense(12, activation="tanh", kernel_regularizer=fastnn.regularizers.L2(1e-3)),
                                  fastnn.layers.Dense(2, bias_regularizer=fastnn.regularizers.L1(1e-3))], seed=1)
    models = _pair(build, dict(optimizer="adam", loss="mse"))
    h = {}
    rng_state = models["cpu"]._engine.snapshot(0, False)["rng"]  # the same shuffles on both
    for d in DEVICES:
        models[d]._engine.set_rng_state(rng_state)
        h[d] = models[d].fit(x, y, sample_weight=w, epochs=3, batch_size=32, verbose=0).history["loss"]
    np.testing.assert_allclose(h["cuda"], h["cpu"], rtol=5e-4)


def test_predict_matches_cpu_and_weights_move_both_ways(tmp_path):
    rng, x = _data(n=20000, din=20)
    y = (x[:, :1] > 0).astype("float32")
    m = _mlp(units=(64, 64), din=20, out_act="sigmoid")()
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"], device="cuda")
    m.fit(x, y, epochs=2, batch_size=128, validation_split=0.1, verbose=0)
    p_gpu = m.predict(x, verbose=0)
    path = tmp_path / "gpu.fastnn"
    m.save(path)
    cpu = fastnn.load_model(path)
    assert cpu.device == "cpu"
    np.testing.assert_allclose(cpu.predict(x, verbose=0), p_gpu, rtol=1e-4, atol=1e-5)
    cpu.compile("adam", "binary_crossentropy", device="cuda")  # and back onto the GPU
    cpu.set_weights(m.get_weights())
    np.testing.assert_allclose(cpu.predict(x, verbose=0), p_gpu, rtol=1e-5, atol=1e-6)


def test_callbacks_writing_weights_reach_the_device():
    rng, x = _data()
    y = rng.standard_normal((x.shape[0], 1)).astype("float32")
    m = _mlp()()
    m.compile("sgd", "mse", device="cuda")
    zeros = [np.zeros_like(w) for w in m.get_weights()]

    class Zero(fastnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.set_weights(zeros)
    m.fit(x, y, epochs=1, verbose=0, callbacks=[Zero()])
    for w in m.get_weights():
        np.testing.assert_array_equal(w, 0)
    np.testing.assert_allclose(m.predict(x, verbose=0), 0.0)


def test_dropout_trains_and_is_identity_in_inference():
    rng, x = _data()
    y = rng.standard_normal((x.shape[0], 1)).astype("float32")
    models = _pair(_mlp(dropout=0.5), dict(optimizer="adam", loss="mse"))
    h = models["cuda"].fit(x, y, epochs=2, verbose=0).history["loss"]
    assert np.isfinite(h).all()
    models["cpu"].set_weights(models["cuda"].get_weights())
    np.testing.assert_allclose(models["cuda"].predict(x, verbose=0), models["cpu"].predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)


def test_bad_sparse_labels_raise_on_the_device():
    rng, x = _data()
    m = _mlp(out=3, out_act="softmax")()
    m.compile("adam", "sparse_categorical_crossentropy", device="cuda")
    with pytest.raises(ValueError, match="labels must be integers"):
        m._engine.train(x, np.full((x.shape[0], 1), 7, "float32"), None, None, 32, 0, 1, False)


def test_unsupported_models_say_so():
    m = fastnn.Sequential([fastnn.layers.Input((5,)), fastnn.layers.Dense(4),
                           fastnn.layers.BatchNormalization(), fastnn.layers.Dense(1)])
    with pytest.raises(ValueError, match="BatchNormalization|batch_normalization"):
        m.compile("adam", "mse", device="cuda")
    m.compile("adam", "mse", device="auto")
    assert m.device == "cpu"
    d = fastnn.Sequential([fastnn.layers.Input((5,)), fastnn.layers.Dense(1)], dtype="float64")
    with pytest.raises(ValueError, match="float32"):
        d.compile("adam", "mse", device="cuda")
    auto = _mlp()()
    auto.compile("adam", "mse", device="auto")
    assert auto.device == "cuda"


@pytest.mark.parametrize("fused", ["1", "0"])
@pytest.mark.parametrize("weighted", [False, True])
def test_streamed_data_set_trains_as_the_whole_upload(monkeypatch, weighted, fused):
    """Above the budget the data are uploaded in chunks of whole shuffled batches: the same batches
    as the whole upload, so the same bits with the fused kernel (its arithmetic does not depend on
    where a batch lies); on the cuBLASLt path the products may pick other algorithms for other
    pointers, so there within float32 rounding."""
    monkeypatch.setenv("FASTNN_CUDA_FUSED", fused)
    rng, x = _data(n=1000, din=6)
    y = rng.standard_normal((1000, 2)).astype("float32")
    w = rng.random(1000).astype("float32") if weighted else None
    build = _mlp(units=(16,), din=6, out=2)
    runs = {}
    for budget in (None, "4096"):  # 4 KiB: a few batches per upload
        if budget is None:
            monkeypatch.delenv("FASTNN_CUDA_DATA_BUDGET", raising=False)
        else:
            monkeypatch.setenv("FASTNN_CUDA_DATA_BUDGET", budget)
        m = build()
        m.compile("adam", "mse", metrics=["mae"], device="cuda")
        h = m.fit(x, y, sample_weight=w, epochs=2, batch_size=24, verbose=0).history
        assert m._engine._dev.streaming == (budget is not None)
        assert (m._engine._dev.fused_reason == "") == (fused == "1")
        runs[budget] = (h, m.get_weights())
    (h0, w0), (h1, w1) = runs[None], runs["4096"]
    if fused == "1":
        assert h0 == h1
        for a, b in zip(w0, w1):
            np.testing.assert_array_equal(a, b)
    else:
        for k in h0:
            np.testing.assert_allclose(h1[k], h0[k], rtol=1e-5, atol=1e-7)
        for a, b in zip(w0, w1):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_bad_data_budget_says_so(monkeypatch):
    rng, x = _data()
    m = _mlp()()
    m.compile("adam", "mse", device="cuda")
    monkeypatch.setenv("FASTNN_CUDA_DATA_BUDGET", "lots")
    with pytest.raises(ValueError, match="FASTNN_CUDA_DATA_BUDGET"):
        m.fit(x, x[:, :1], epochs=1, verbose=0)


def test_manual_loop_runs_on_the_device_like_the_cpu():
    rng, x = _data(n=64)
    y = rng.standard_normal((64, 1)).astype("float32")
    models = _pair(_mlp(act="tanh"), dict(optimizer=fastnn.optimizers.Adam(1e-2), loss="mse"))
    for _ in range(3):
        vals = {}
        for d in DEVICES:
            m = models[d]
            m.optimizer.zero_grad()
            out = m(x, training=True)
            loss = m.loss(y, out)
            loss.backward()
            m.optimizer.step()
            vals[d] = float(loss)
        np.testing.assert_allclose(vals["cuda"], vals["cpu"], rtol=1e-5)
    for a, b in zip(models["cuda"].get_weights(), models["cpu"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert models["cuda"].optimizer.iterations == models["cpu"].optimizer.iterations == 3
    # the device's gradients are mirrored on the host
    g = {d: [np.asarray(models[d]._engine.get_variable(i, True)) for i in range(4)] for d in DEVICES}
    for a, b in zip(g["cuda"], g["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_input_gradient_on_the_device_matches_the_cpu():
    rng, x = _data(n=40)
    models = _pair(_mlp(act="gelu", out=3, out_act="softmax"), dict(optimizer="adam", loss="categorical_crossentropy"))
    w = rng.standard_normal((40, 3)).astype("float32")
    gi = {d: models[d]._engine.input_gradient(x, w) for d in DEVICES}
    np.testing.assert_allclose(gi["cuda"], gi["cpu"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss, out, out_act, labels", [
    ("binary_crossentropy", 1, "sigmoid", "binary"), ("mse", 3, None, "real"),
    ("sparse_categorical_crossentropy", 4, "softmax", "sparse"),
])
def test_fused_small_network_kernel_matches_the_cpu(monkeypatch, loss, out, out_act, labels):
    rng, x = _data(n=200, din=8)
    n = x.shape[0]
    y = {"real": lambda: rng.standard_normal((n, out)), "binary": lambda: rng.random((n, 1)) > 0.5,
         "sparse": lambda: rng.integers(0, out, (n, 1))}[labels]().astype("float32")
    h, weights = {}, {}
    for fused in ("1", "0"):
        monkeypatch.setenv("FASTNN_CUDA_FUSED", fused)
        models = _pair(_mlp(units=(10, 10), din=8, out=out, out_act=out_act), dict(optimizer="adam", loss=loss))
        hist = _fit_both(models, x, y, epochs=2, batch_size=32)
        reason = models["cuda"]._engine._dev.fused_reason
        assert (reason == "") == (fused == "1"), reason
        np.testing.assert_allclose(hist["cuda"], hist["cpu"], rtol=5e-4, atol=1e-6)
        for a, b in zip(models["cuda"].get_weights(), models["cpu"].get_weights()):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-5)
        h[fused] = hist["cuda"]
    np.testing.assert_allclose(h["1"], h["0"], rtol=5e-4, atol=1e-6)
