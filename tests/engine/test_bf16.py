"""bfloat16 matrix products (AMX tiles) and the mixed_bfloat16 dtype policy.

The reference rounds the float32 inputs to bfloat16 (to nearest even) in numpy and multiplies in
float64: the kernel's only other difference is float32 accumulation, bounded below. Skipped, with
the reason, where the CPU (or OS, or build) has no AMX-BF16."""
import numpy as np
import pytest

import fastnn
from fastnn import _core

HAVE = bool(_core.bf16_available())
needs_bf16 = pytest.mark.skipif(not HAVE, reason=f"no bfloat16 matrix products here: "
                                                 f"{_core.bf16_unavailable_reason()}")


def to_bf16(x):
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return r.astype(np.uint32).view(np.float32)


def reference(a, b, ta, tb, bias=None, relu=False, beta=0.0, c=None):
    A = to_bf16(a).astype(np.float64)
    B = to_bf16(b).astype(np.float64)
    A = A.T if ta else A
    B = B.T if tb else B
    out = A @ B
    bound = (np.abs(A) @ np.abs(B)) * (A.shape[1] + 2) * 2.0 ** -23 + 1e-30
    if c is not None and beta:
        out = out + beta * c.astype(np.float64)
        bound = bound + np.abs(beta * c) * 2.0 ** -23
    if bias is not None:
        out = out + bias
        bound = bound + np.abs(out) * 2.0 ** -23
    if relu:
        out = np.maximum(out, 0)
    return out, bound


SHAPES = [(1, 1, 1), (5, 7, 3), (33, 17, 65), (100, 70, 129), (64, 64, 64), (31, 33, 32),
          (256, 300, 129), (17, 40, 700)]
TRANS = [(False, False), (True, False), (False, True), (True, True)]


@needs_bf16
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bf16_gemm_matches_rounded_reference(shape, ta, tb):
    M, N, K = shape
    rng = np.random.default_rng(M * 1000 + N + K)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    bias = rng.standard_normal(N).astype(np.float32)
    c = rng.standard_normal((M, N)).astype(np.float32)
    for kw in ({}, {"bias": bias, "relu": True}, {"beta": 0.75, "c": c, "bias": bias}):
        got = _core.gemm(a, b, trans_a=ta, trans_b=tb, precision="bfloat16", **kw)
        want, bound = reference(a, b, ta, tb, **kw)
        assert got.dtype == np.float32
        assert np.all(np.abs(got - want) <= bound), np.max(np.abs(got - want) - bound)


@needs_bf16
def test_bf16_differs_from_float32_by_the_input_rounding():
    # The rounding is real: exact float32 inputs that bfloat16 cannot hold give a different product.
    a = np.full((4, 4), 1.0 + 2.0 ** -10, np.float32)
    b = np.eye(4, dtype=np.float32)
    assert np.all(_core.gemm(a, b) == a)
    assert np.all(_core.gemm(a, b, precision="bfloat16") == 1.0)


@needs_bf16
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
def test_bf16_rows_and_threads_do_not_change_results(ta, tb, threads_back):
    M, N, K = 301, 257, 300
    rng = np.random.default_rng(3)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    _core.set_num_threads(1)
    one = _core.gemm(a, b, trans_a=ta, trans_b=tb, precision="bfloat16")
    _core.set_num_threads(2)
    two = _core.gemm(a, b, trans_a=ta, trans_b=tb, precision="bfloat16")
    assert np.array_equal(one, two)
    for lo, hi in [(0, 1), (7, 40), (M - 3, M)]:
        part = np.ascontiguousarray(a[:, lo:hi] if ta else a[lo:hi])
        assert np.array_equal(_core.gemm(part, b, trans_a=ta, trans_b=tb, precision="bfloat16"),
                              one[lo:hi])


@needs_bf16
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
def test_bf16_blocked_paths_agree(ta, tb, threads_back):
    # K = 1000: four k blocks, the last one partial; N = 520: several column strips and a partial
    # panel. 256 rows pack each strip of B inside the task that uses it, 300 rows pack B once for
    # several row groups: the same bits either way, for 1 and 2 threads, and within the bound.
    M, N, K = 300, 520, 1000
    rng = np.random.default_rng(11)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        whole = _core.gemm(a, b, trans_a=ta, trans_b=tb, precision="bfloat16")
        part = np.ascontiguousarray(a[:, :256] if ta else a[:256])
        results.append((whole, _core.gemm(part, b, trans_a=ta, trans_b=tb, precision="bfloat16")))
    want, bound = reference(a, b, ta, tb)
    assert np.all(np.abs(results[0][0] - want) <= bound)
    for whole, head in results:
        assert np.array_equal(whole, results[0][0])
        assert np.array_equal(head, results[0][0][:256])


@pytest.fixture
def threads_back():
    old = _core.get_num_threads()
    yield
    _core.set_num_threads(old)


def test_gemm_precision_is_checked():
    a = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="precision"):
        _core.gemm(a, a, precision="float16")


def test_policy_names_are_checked():
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        fastnn.mixed_precision.DTypePolicy("mixed_float16")
    with pytest.raises(TypeError):
        fastnn.mixed_precision.DTypePolicy(3)
    p = fastnn.mixed_precision.DTypePolicy("mixed_bfloat16")
    assert (p.compute_dtype, p.variable_dtype) == ("bfloat16", "float32")


@pytest.mark.skipif(HAVE, reason="this CPU has bfloat16 matrix products")
def test_policy_without_hardware_says_why():
    m = fastnn.Sequential([fastnn.layers.Input(shape=(3,)), fastnn.layers.Dense(2)])
    with pytest.raises(RuntimeError, match="bfloat16"):
        m.compile(optimizer="sgd", loss="mse", dtype_policy="mixed_bfloat16")
    with pytest.raises(RuntimeError, match="bfloat16"):
        fastnn.mixed_precision.set_global_policy("mixed_bfloat16")


def _fit(policy, x, y, xt, yt, units, loss, threads=None):
    if threads:
        fastnn.set_num_threads(threads)
    fastnn.utils.set_random_seed(0)
    layers = [fastnn.layers.Input(shape=(x.shape[1],))]
    layers += [fastnn.layers.Dense(u, activation="relu") for u in units[:-1]]
    layers += [fastnn.layers.Dense(units[-1], activation="sigmoid" if units[-1] == 1 else "softmax")]
    m = fastnn.Sequential(layers)
    m.compile(optimizer="adam", loss=loss, metrics=["accuracy"], dtype_policy=policy)
    m.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return m, m.evaluate(xt, yt, verbose=0)[1]


@needs_bf16
def test_mixed_bfloat16_accuracy_within_half_a_percent_of_float32():
    (x, y), (xt, yt) = fastnn.datasets.seed_task(n_samples=20000, seed=1)
    _, acc32 = _fit("float32", x, y, xt, yt, [32, 32, 1], "binary_crossentropy")
    m, acc16 = _fit("mixed_bfloat16", x, y, xt, yt, [32, 32, 1], "binary_crossentropy")
    assert m.dtype_policy.name == "mixed_bfloat16"
    assert m.get_weights()[0].dtype == np.float32
    assert acc16 >= acc32 - 0.005, (acc16, acc32)
    (x, y), (xt, yt) = fastnn.datasets.classification(n_samples=6000, n_features=64, n_classes=10,
                                                       seed=2)
    _, acc32 = _fit("float32", x, y, xt, yt, [128, 10], "sparse_categorical_crossentropy")
    _, acc16 = _fit("mixed_bfloat16", x, y, xt, yt, [128, 10], "sparse_categorical_crossentropy")
    assert acc16 >= acc32 - 0.005, (acc16, acc32)


@needs_bf16
def test_mixed_bfloat16_training_is_identical_for_one_and_two_threads(threads_back):
    (x, y), (xt, yt) = fastnn.datasets.seed_task(n_samples=3000, seed=4)
    m1, _ = _fit("mixed_bfloat16", x, y, xt, yt, [64, 64, 1], "binary_crossentropy", threads=1)
    m2, _ = _fit("mixed_bfloat16", x, y, xt, yt, [64, 64, 1], "binary_crossentropy", threads=2)
    for w1, w2 in zip(m1.get_weights(), m2.get_weights()):
        assert np.array_equal(w1, w2)
    p = m2.predict(xt, verbose=0)
    assert np.array_equal(m2.predict(xt[5:9], verbose=0), p[5:9])


@needs_bf16
def test_global_policy_applies_to_models_compiled_later():
    try:
        fastnn.mixed_precision.set_global_policy("mixed_bfloat16")
        m = fastnn.Sequential([fastnn.layers.Input(shape=(3,)), fastnn.layers.Dense(2)])
        m.compile(optimizer="sgd", loss="mse")
        assert m.dtype_policy.name == "mixed_bfloat16"
        assert m._engine.matmul_precision() == "bfloat16"
    finally:
        fastnn.mixed_precision.set_global_policy("float32")
    m.compile(optimizer="sgd", loss="mse")
    assert m._engine.matmul_precision() == "float32"
