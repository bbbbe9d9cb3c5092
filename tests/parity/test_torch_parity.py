"""Parity with PyTorch: from the same initial weights and the same batches, fastnn's gradients equal
torch.autograd's, plain SGD training follows torch.optim.SGD, and Adam / SGD momentum / RMSprop follow
a numpy implementation of Keras's formulas driven by torch's gradients."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import layers
from fastnn import losses as L

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.usefixtures("torch_one_thread")

TORCH_ACT = {
    None: lambda z: z,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": lambda z: F.gelu(z),
    "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
    "silu": F.silu,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "mish": F.mish,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.2),  # Keras's default slope
    "hard_sigmoid": F.hardsigmoid,
    "hard_silu": F.hardswish,
    "relu6": F.relu6,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def _fastnn_act(name):
    if name == "gelu_tanh":
        return fastnn.activations.Activation("gelu", approximate=True)
    return name


def _torch_loss(kind, out, y, w=None):
    """Keras's reductions written with torch ops; `out` is the network output (for sigmoid / softmax
    heads the logits are used, as fastnn does)."""
    if kind == "mse":
        per = ((out - y) ** 2).mean(1)
    elif kind == "bce":
        per = F.binary_cross_entropy_with_logits(out, y, reduction="none").mean(1)
    elif kind == "cce":
        per = -(y * torch.log_softmax(out, dim=1)).sum(1)
    elif kind == "huber":
        per = F.huber_loss(out, y, reduction="none", delta=1.0).mean(1)
    else:
        raise ValueError(kind)
    if w is not None:
        per = per * w
    return per.sum() / out.shape[0]


# name -> (hidden activations, output activation, output units, fastnn loss, torch loss kind)
NETS = {
    "relu_tanh_mse": (("relu", "tanh"), None, 3, "mse", "mse"),
    "gelu_silu_bce": (("gelu", "silu"), "sigmoid", 1, "binary_crossentropy", "bce"),
    "elu_relu_cce": (("elu", "relu"), "softmax", 4, "categorical_crossentropy", "cce"),
    "mish_selu_huber": (("mish", "selu"), None, 2, "huber", "huber"),
    "softplus_softsign_bce2": (("softplus", "softsign"), "sigmoid", 2, "binary_crossentropy", "bce"),
    "leaky_hardsilu_mse": (("leaky_relu", "hard_silu"), None, 2, "mse", "mse"),
    "gelutanh_relu6_cce": (("gelu_tanh", "relu6"), "softmax", 3, "categorical_crossentropy", "cce"),
}
DIN, H1, H2 = 6, 9, 7


def _build(name, dtype, seed=0):
    acts, out_act, k, loss, _ = NETS[name]
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(DIN,)),
                           layers.Dense(H1, activation=_fastnn_act(acts[0]), bias_initializer="random_normal"),
                           layers.Dense(H2, activation=_fastnn_act(acts[1]), bias_initializer="random_normal"),
                           layers.Dense(k, activation=out_act, bias_initializer="random_normal")], dtype=dtype)
    return m


class TorchNet:
    """The same network in torch; parameters in torch's layout (weight (out, in))."""

    def __init__(self, name, weights, dtype):
        acts, out_act, _, _, self.loss_kind = NETS[name]
        tdt = torch.float64 if dtype == "float64" else torch.float32
        self.params = []
        for i in range(0, len(weights), 2):
            w = torch.tensor(np.ascontiguousarray(weights[i].T), dtype=tdt, requires_grad=True)
            b = torch.tensor(weights[i + 1], dtype=tdt, requires_grad=True)
            self.params += [w, b]
        self.acts = [TORCH_ACT[acts[0]], TORCH_ACT[acts[1]]]
        self.tdt = tdt

    def logits(self, x):
        h = torch.as_tensor(x, dtype=self.tdt)
        w1, b1, w2, b2, w3, b3 = self.params
        h = self.acts[0](h @ w1.T + b1)
        h = self.acts[1](h @ w2.T + b2)
        return h @ w3.T + b3

    def grads(self, x, y, w=None):
        """Keras-layout gradients of the batch loss."""
        for p in self.params:
            p.grad = None
        yt = torch.as_tensor(y, dtype=self.tdt)
        wt = None if w is None else torch.as_tensor(w, dtype=self.tdt)
        loss = _torch_loss(self.loss_kind, self.logits(x), yt, wt)
        loss.backward()
        out = []
        for i, p in enumerate(self.params):
            g = p.grad.detach().numpy()
            out.append(np.ascontiguousarray(g.T) if i % 2 == 0 else g.copy())
        return float(loss.detach()), out

    def keras_weights(self):
        return [np.ascontiguousarray(p.detach().numpy().T) if i % 2 == 0 else p.detach().numpy().copy()
                for i, p in enumerate(self.params)]

    def set_keras_weights(self, ws):
        with torch.no_grad():
            for i, (p, w) in enumerate(zip(self.params, ws)):
                p.copy_(torch.as_tensor(w.T if i % 2 == 0 else w, dtype=self.tdt))


def _data(name, n, seed=0):
    _, out_act, k, _, kind = NETS[name]
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, DIN))
    if kind == "bce":
        y = rng.integers(0, 2, (n, k)).astype(float)
    elif kind == "cce":
        y = np.eye(k)[rng.integers(0, k, n)]
    else:
        y = rng.normal(0, 1, (n, k))
    return x, y


def _assert_close_arrays(got, want, rtol, what=""):
    for i, (a, b) in enumerate(zip(got, want)):
        scale = float(np.abs(b).max())
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=f"{what} variable {i}")


# ------------------------------------------------------------------------------------------------
# gradients of one batch
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("name", sorted(NETS))
def test_gradients_match_autograd(name, dtype, rtol):
    m = _build(name, dtype)
    opt = fastnn.optimizers.SGD(0.1)
    opt.build(m.parameters())
    tnet = TorchNet(name, m.get_weights(), dtype)
    x, y = _data(name, 24)
    x, y = x.astype(dtype), y.astype(dtype)
    opt.zero_grad()
    out = m(x, training=True)
    lv = fastnn.losses.get(NETS[name][3])(y, out)
    lv.backward()
    got = [v.grad for v in m.weights]
    tloss, want = tnet.grads(x, y)
    assert float(lv) == pytest.approx(tloss, rel=rtol * 10)
    _assert_close_arrays(got, want, rtol, name)
    # outputs agree too
    with torch.no_grad():
        logits = tnet.logits(x)
        tout = {None: logits, "sigmoid": torch.sigmoid(logits),
                "softmax": torch.softmax(logits, 1)}[NETS[name][1]].numpy()
    np.testing.assert_allclose(np.asarray(out), tout, rtol=rtol * 10, atol=rtol * 10)


def test_gradients_accumulate_over_backward_calls():
    m = _build("relu_tanh_mse", "float64")
    opt = fastnn.optimizers.SGD(0.1)
    opt.build(m.parameters())
    tnet = TorchNet("relu_tanh_mse", m.get_weights(), "float64")
    x, y = _data("relu_tanh_mse", 16)
    opt.zero_grad()
    for sl in (slice(0, 8), slice(8, 16)):
        out = m(x[sl], training=True)
        L.MeanSquaredError()(y[sl], out).backward()
    got = [v.grad for v in m.weights]
    want = [a + b for a, b in zip(tnet.grads(x[:8], y[:8])[1], tnet.grads(x[8:], y[8:])[1])]
    _assert_close_arrays(got, want, 1e-10)


# ------------------------------------------------------------------------------------------------
# training: 100 steps of fit(shuffle=False)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-10), ("float32", 2e-4)])
@pytest.mark.parametrize("name,n,weighted", [("relu_tanh_mse", 160, False), ("gelu_silu_bce", 150, False),
                                             ("elu_relu_cce", 160, True)])
def test_sgd_fit_matches_torch_sgd(name, n, weighted, dtype, rtol):
    m = _build(name, dtype, seed=1)
    m.compile(optimizer=fastnn.optimizers.SGD(0.05), loss=NETS[name][3])
    tnet = TorchNet(name, m.get_weights(), dtype)
    x, y = _data(name, n, seed=2)
    x, y = x.astype(dtype), y.astype(dtype)
    w = np.random.default_rng(3).uniform(0.2, 2.0, n).astype(dtype) if weighted else None
    bs, epochs = 16, 10
    m.fit(x, y, batch_size=bs, epochs=epochs, shuffle=False, verbose=0, sample_weight=w)
    assert m.optimizer.iterations == epochs * -(-n // bs) == 100
    topt = torch.optim.SGD(tnet.params, lr=0.05)
    for _ in range(epochs):
        for s in range(0, n, bs):
            topt.zero_grad()
            yt = torch.as_tensor(y[s:s + bs], dtype=tnet.tdt)
            wt = None if w is None else torch.as_tensor(w[s:s + bs], dtype=tnet.tdt)
            _torch_loss(tnet.loss_kind, tnet.logits(x[s:s + bs]), yt, wt).backward()
            topt.step()
    want = tnet.keras_weights()
    got = m.get_weights()
    _assert_close_arrays(got, want, rtol, name)
    assert not np.allclose(got[0], TorchNet(name, _build(name, dtype, seed=1).get_weights(), dtype)
                           .keras_weights()[0])  # it trained


OPTS = {
    "adam": (lambda: fastnn.optimizers.Adam(0.01), "adam", dict(learning_rate=0.01)),
    "amsgrad_wd": (lambda: fastnn.optimizers.Adam(0.01, amsgrad=True, weight_decay=0.01), "adam",
                   dict(learning_rate=0.01, amsgrad=True, weight_decay=0.01)),
    "sgd_momentum": (lambda: fastnn.optimizers.SGD(0.05, momentum=0.9), "sgd", dict(learning_rate=0.05, momentum=0.9)),
    "sgd_nesterov": (lambda: fastnn.optimizers.SGD(0.05, momentum=0.9, nesterov=True), "sgd",
                     dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    "rmsprop": (lambda: fastnn.optimizers.RMSprop(0.005), "rmsprop", dict(learning_rate=0.005)),
    "rmsprop_centered_momentum": (lambda: fastnn.optimizers.RMSprop(0.005, momentum=0.5, centered=True), "rmsprop",
                                  dict(learning_rate=0.005, momentum=0.5, centered=True)),
}


@pytest.mark.parametrize("opt_name", sorted(OPTS))
@pytest.mark.parametrize("name", ["relu_tanh_mse", "elu_relu_cce"])
def test_fit_matches_keras_formulas_on_torch_gradients(name, opt_name, keras_ref_optimizer):
    make, kind, kw = OPTS[opt_name]
    m = _build(name, "float64", seed=3)
    m.compile(optimizer=make(), loss=NETS[name][3])
    tnet = TorchNet(name, m.get_weights(), "float64")
    x, y = _data(name, 160, seed=4)
    bs, epochs = 16, 10
    m.fit(x, y, batch_size=bs, epochs=epochs, shuffle=False, verbose=0)
    params = tnet.keras_weights()
    ref = keras_ref_optimizer(kind, [p.shape for p in params], **kw)
    for _ in range(epochs):
        for s in range(0, 160, bs):
            tnet.set_keras_weights(params)
            _, grads = tnet.grads(x[s:s + bs], y[s:s + bs])
            ref.step(params, grads)
    assert ref.iterations == m.optimizer.iterations == 100
    _assert_close_arrays(m.get_weights(), params, 1e-9, f"{name}/{opt_name}")
