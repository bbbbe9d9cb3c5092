"""fastnn.interop.from_torch / to_torch: every supported module kind, float32 and float64, predictions
compared with PyTorch's own forward pass on random inputs, both ways."""
import numpy as np
import pytest

import fastnn
from fastnn import interop, layers

torch = pytest.importorskip("torch")
nn = torch.nn

ACTIVATION_MODULES = [
    nn.ReLU(), nn.LeakyReLU(), nn.LeakyReLU(0.3), nn.ReLU6(), nn.ELU(), nn.ELU(alpha=0.5), nn.SELU(),
    nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish(), nn.Softplus(), nn.Softsign(),
    nn.Sigmoid(), nn.Hardsigmoid(), nn.Hardswish(), nn.Tanh(), nn.Softmax(dim=-1), nn.Softmax(dim=1),
    nn.LogSoftmax(dim=-1), nn.Identity(),
]
DTYPES = [(np.float32, torch.float32, 2e-6), (np.float64, torch.float64, 1e-12)]


def _randomize(module, gen):
    """Non-trivial parameters and running statistics, so that a swapped or dropped one shows."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
        for m in module.modules():
            if isinstance(m, nn.BatchNorm1d) and m.running_mean is not None:
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen, dtype=m.running_mean.dtype))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen, dtype=m.running_var.dtype) + 0.5)
    return module.eval()


def _torch_out(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def _check_both_ways(module, x, tol):
    ours = interop.from_torch(module)
    expected = _torch_out(module, x)
    got = ours.predict(x, verbose=0)
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    back = interop.to_torch(ours)
    assert not back.training
    np.testing.assert_allclose(_torch_out(back, x), got, rtol=tol, atol=tol)
    return ours, back


@pytest.mark.parametrize("np_dtype,t_dtype,tol", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("act", ACTIVATION_MODULES, ids=lambda m: repr(m))
def test_activation_after_linear_and_alone(act, np_dtype, t_dtype, tol):
    gen = torch.Generator().manual_seed(0)
    x = np.random.default_rng(1).normal(scale=3.0, size=(33, 6)).astype(np_dtype)
    fused = _randomize(nn.Sequential(nn.Linear(6, 5), act, nn.Linear(5, 4)).to(t_dtype), gen)
    _check_both_ways(fused, x, tol)
    alone = _randomize(nn.Sequential(nn.BatchNorm1d(6), act).to(t_dtype), gen)
    _check_both_ways(alone, x, tol)


@pytest.mark.parametrize("np_dtype,t_dtype,tol", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["bn", "bn_no_affine", "bn_momentum", "ln", "ln_no_affine", "ln_no_bias",
                                  "dropout", "linear_no_bias", "flatten"])
def test_layer_kinds(kind, np_dtype, t_dtype, tol):
    gen = torch.Generator().manual_seed(2)
    rng = np.random.default_rng(3)
    body = {
        "bn": nn.BatchNorm1d(7, eps=1e-3),
        "bn_no_affine": nn.BatchNorm1d(7, affine=False),
        "bn_momentum": nn.BatchNorm1d(7, momentum=0.3),
        "ln": nn.LayerNorm(7, eps=1e-4),
        "ln_no_affine": nn.LayerNorm(7, elementwise_affine=False),
        "ln_no_bias": nn.LayerNorm(7, bias=False),
        "dropout": nn.Dropout(0.4),
        "linear_no_bias": nn.Linear(7, 7, bias=False),
        "flatten": nn.Flatten(),
    }[kind]
    module = _randomize(nn.Sequential(nn.Linear(4 if kind != "flatten" else 7, 7), nn.Tanh(), body,
                                      nn.Linear(7, 3)).to(t_dtype), gen)
    x = rng.normal(size=(19, module[0].in_features)).astype(np_dtype)
    ours, back = _check_both_ways(module, x, tol)
    assert ours.dtype == np.dtype(np_dtype).name
    if kind.startswith("bn"):
        bn = ours.layers[1]
        assert bn.momentum == pytest.approx(1 - body.momentum)
        assert bn.epsilon == body.eps
        assert back[2].momentum == pytest.approx(body.momentum)


def test_leading_flatten_needs_input_shape_and_converts_images():
    module = _randomize(nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.ReLU()), torch.Generator().manual_seed(4))
    with pytest.raises(ValueError, match="input_shape"):
        interop.from_torch(module)
    ours = interop.from_torch(module, input_shape=(3, 4))
    x = np.random.default_rng(5).normal(size=(8, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), _torch_out(module, x), rtol=2e-6, atol=2e-6)


def test_module_whose_forward_is_a_chain():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.block = nn.Linear(5, 8), nn.GELU(), nn.Sequential(nn.LayerNorm(8), nn.Linear(8, 2))

        def forward(self, x):
            return self.block(self.act(self.fc1(x)))

    module = _randomize(Net(), torch.Generator().manual_seed(6))
    ours = interop.from_torch(module)
    assert [l.name for l in ours.layers] == ["fc1", "block_0", "block_1"]
    x = np.random.default_rng(7).normal(size=(10, 5)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), _torch_out(module, x), rtol=2e-6, atol=2e-6)


def test_refusals_name_what_is_refused():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return x + self.fc(x)

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return torch.relu(self.fc(x))

    with pytest.raises(ValueError, match="Conv1d"):
        interop.from_torch(nn.Sequential(nn.Conv1d(1, 1, 3), nn.Flatten()))
    with pytest.raises(ValueError, match="PReLU"):
        interop.from_torch(nn.Sequential(nn.Linear(4, 4), nn.PReLU()))
    with pytest.raises(ValueError, match="not a plain chain|only a plain chain"):
        interop.from_torch(Residual())
    with pytest.raises(ValueError, match="relu"):
        interop.from_torch(Functional())
    with pytest.raises(ValueError, match="Softplus"):
        interop.from_torch(nn.Sequential(nn.Linear(4, 4), nn.Softplus(beta=2)))
    with pytest.raises(ValueError, match="dim"):
        interop.from_torch(nn.Sequential(nn.Linear(4, 4), nn.Softmax(dim=0)))
    with pytest.raises(ValueError, match="momentum=None"):
        interop.from_torch(nn.Sequential(nn.BatchNorm1d(4, momentum=None)))
    with pytest.raises(ValueError, match="running statistics"):
        interop.from_torch(nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False)))
    with pytest.raises(ValueError, match="float16"):
        interop.from_torch(nn.Sequential(nn.Linear(4, 4)).half())
    with pytest.raises(ValueError, match="features"):
        interop.from_torch(nn.Sequential(nn.Linear(4, 5), nn.Linear(4, 2)))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        interop.from_torch("not a module")
    model = fastnn.Sequential([layers.Input((3,)), layers.Dense(2, activation="exponential")])
    with pytest.raises(ValueError, match="exponential"):
        interop.to_torch(model)


def test_fastnn_relu_variants_to_torch():
    rng = np.random.default_rng(8)
    x = rng.normal(scale=4, size=(50, 6)).astype(np.float64)
    for act in [{"name": "relu", "max_value": 2.5}, {"name": "relu", "negative_slope": 0.1},
                {"name": "relu", "threshold": 0.5}, {"name": "relu", "max_value": 6.0}, "relu6", "elu"]:
        model = fastnn.Sequential([layers.Input((6,)), layers.Activation(act)], dtype="float64")
        back = interop.to_torch(model)
        np.testing.assert_allclose(_torch_out(back, x), model.predict(x, verbose=0), rtol=1e-12, atol=1e-12)


def test_batchnorm_training_update_follows_translated_momentum():
    # One training-mode pass in each library: the moving means agree, which checks that Keras's
    # momentum is PyTorch's complement (the variances differ by design: PyTorch keeps the unbiased one).
    module = _randomize(nn.Sequential(nn.BatchNorm1d(5, momentum=0.25)).double(), torch.Generator().manual_seed(9))
    ours = interop.from_torch(module)
    x = np.random.default_rng(10).normal(loc=2.0, size=(64, 5))
    module.train()
    module(torch.from_numpy(x))
    ours(x, training=True)
    np.testing.assert_allclose(ours.layers[0].get_weights()[2], module[0].running_mean.numpy(), rtol=1e-12)
