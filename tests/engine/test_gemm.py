"""Tests of the native GEMM (fastnn._core.gemm) and of the thread pool behind it.

Correctness against float64 numpy for the four transpose combinations, odd shapes, long k, bias,
relu and beta, in float32 and float64; the determinism rules of gemm.h (a row computed alone equals
the same row computed in a batch, bitwise; 1 and 2 threads agree bitwise); every kernel path the CPU
has, each in a subprocess with FASTNN_KERNEL set; and the pool across fork and concurrent callers.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

core = pytest.importorskip("fastnn._core")
if not hasattr(core, "gemm"):
    pytest.skip("fastnn._core has no gemm binding", allow_module_level=True)

DTYPES = [np.float32, np.float64]
TRANS = [(False, False), (True, False), (False, True), (True, True)]
SHAPES = [  # (M, N, K)
    (1, 1, 1),
    (7, 13, 5),
    (33, 17, 65),
    (256, 300, 129),
    (32, 10, 8),  # the tiny 8-10-10-1 network at batch 32
    (8, 10, 32),
    (128, 10, 512),
    (512, 10, 128),
    (13, 9, 70),  # 9..12 columns: the narrow (8 + 4 wide) tiles, with a row tail
    (6, 12, 3),
    (5, 11, 1),
    (3, 5, 2100),  # long k: several k blocks
    (70, 90, 600),
    (1, 700, 300),
]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def make(M, N, K, ta, tb, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return a, b


def reference(a, b, ta, tb, bias=None, relu=False, beta=0.0, c=None):
    """float64 result and an error bound for the dtype of the inputs."""
    A = (a.T if ta else a).astype(np.float64)
    B = (b.T if tb else b).astype(np.float64)
    ref = A @ B
    mag = np.abs(A) @ np.abs(B)
    if beta != 0.0 and c is not None:
        ref = ref + beta * c.astype(np.float64)
        mag = mag + np.abs(beta * c.astype(np.float64))
    if bias is not None:
        ref = ref + bias.astype(np.float64)
        mag = mag + np.abs(bias.astype(np.float64))
    if relu:
        ref = np.maximum(ref, 0.0)
    K = A.shape[1]
    eps = np.finfo(a.dtype).eps
    return ref, (K + 4) * eps * mag + 4 * np.finfo(a.dtype).tiny


def check_close(out, ref, bound):
    assert out.shape == ref.shape
    err = np.abs(out.astype(np.float64) - ref)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), f"error {err[worst]} > bound {bound[worst]} at {worst}"


@pytest.fixture
def threads_back():
    before = core.get_num_threads()
    yield before
    core.set_num_threads(before)


# --------------------------------------------------------------------------------------------
# correctness
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_numpy(shape, ta, tb, dtype):
    M, N, K = shape
    a, b = make(M, N, K, ta, tb, dtype)
    out = core.gemm(a, b, trans_a=ta, trans_b=tb)
    assert out.dtype == dtype
    check_close(out, *reference(a, b, ta, tb))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("shape", [(7, 13, 5), (33, 17, 65), (150, 70, 300), (5, 9, 600), (13, 10, 40),
                                   (8, 12, 7)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("bias,relu,beta", [(True, False, 0.0), (False, True, 0.0),
                                            (True, True, 0.0), (False, False, 1.0),
                                            (True, True, -0.5), (False, False, 2.0)],
                         ids=["bias", "relu", "bias-relu", "beta1", "all", "beta2"])
def test_epilogue_and_beta(shape, ta, tb, dtype, bias, relu, beta):
    M, N, K = shape
    a, b = make(M, N, K, ta, tb, dtype)
    rng = np.random.default_rng(1)
    bv = rng.standard_normal(N).astype(dtype) if bias else None
    c = rng.standard_normal((M, N)).astype(dtype) if beta != 0.0 else None
    out = core.gemm(a, b, trans_a=ta, trans_b=tb, bias=bv, relu=relu, beta=beta, c=c)
    ref, bound = reference(a, b, ta, tb, bias=bv, relu=relu, beta=beta, c=c)
    check_close(out, ref, bound)
    if relu:
        assert np.all(out >= 0)


def test_empty_k_gives_bias_and_beta_c():
    a = np.zeros((4, 0), np.float32)
    b = np.zeros((0, 3), np.float32)
    bias = np.array([1, 2, 3], np.float32)
    c = np.ones((4, 3), np.float32)
    out = core.gemm(a, b, bias=bias, beta=2.0, c=c)
    np.testing.assert_array_equal(out, np.tile([3, 4, 5], (4, 1)).astype(np.float32))


def test_exact_small_integers():
    # Products and sums of small integers are exact in every arithmetic.
    rng = np.random.default_rng(3)
    for dtype in DTYPES:
        a = rng.integers(-4, 5, (37, 300)).astype(dtype)
        b = rng.integers(-4, 5, (300, 41)).astype(dtype)
        np.testing.assert_array_equal(core.gemm(a, b), (a.astype(np.int64) @ b.astype(np.int64)).astype(dtype))


# --------------------------------------------------------------------------------------------
# determinism (gemm.h: one sequential k chain per element, whatever the tiling and threads)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("M", [1, 5, 6, 7, 31, 128, 301])
def test_row_alone_equals_row_in_batch(M, ta, tb, dtype):
    K, N = 300, 45
    a, b = make(M, N, K, ta, tb, dtype, seed=M)
    rng = np.random.default_rng(7)
    bias = rng.standard_normal(N).astype(dtype)
    full = core.gemm(a, b, trans_a=ta, trans_b=tb, bias=bias)
    for i in sorted({0, M // 2, M - 1}):
        row = np.ascontiguousarray(a[:, i:i + 1] if ta else a[i:i + 1])
        one = core.gemm(row, b, trans_a=ta, trans_b=tb, bias=bias)
        np.testing.assert_array_equal(one[0], full[i])
    # predict-like: a block of rows computed on its own
    lo, hi = M // 3, M // 3 + max(1, M // 2)
    blk = np.ascontiguousarray(a[:, lo:hi] if ta else a[lo:hi])
    np.testing.assert_array_equal(core.gemm(blk, b, trans_a=ta, trans_b=tb, bias=bias), full[lo:hi])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("tb", [False, True], ids=["B", "Bt"])
def test_columns_alone_equal_columns_in_batch(tb, dtype):
    M, N, K = 97, 200, 530
    a, b = make(M, N, K, False, tb, dtype)
    full = core.gemm(a, b, trans_b=tb)
    for j0, j1 in [(0, 1), (3, 20), (150, 200), (17, 199)]:
        part = np.ascontiguousarray(b[j0:j1] if tb else b[:, j0:j1])
        np.testing.assert_array_equal(core.gemm(a, part, trans_b=tb), full[:, j0:j1])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("shape", [(64, 64, 64), (300, 257, 300), (128, 512, 784), (784, 512, 128),
                                   (2, 3000, 200), (1000, 10, 300)],
                         ids=lambda s: "x".join(map(str, s)))
def test_one_and_two_threads_agree(shape, ta, tb, dtype, threads_back):
    M, N, K = shape
    a, b = make(M, N, K, ta, tb, dtype)
    rng = np.random.default_rng(2)
    bias = rng.standard_normal(N).astype(dtype)
    c = rng.standard_normal((M, N)).astype(dtype)
    core.set_num_threads(1)
    one = core.gemm(a, b, trans_a=ta, trans_b=tb, bias=bias, relu=True, beta=0.5, c=c)
    core.set_num_threads(2)
    two = core.gemm(a, b, trans_a=ta, trans_b=tb, bias=bias, relu=True, beta=0.5, c=c)
    np.testing.assert_array_equal(one, two)
    core.set_num_threads(3)  # more threads than cores is allowed too
    np.testing.assert_array_equal(core.gemm(a, b, trans_a=ta, trans_b=tb, bias=bias, relu=True,
                                            beta=0.5, c=c), one)


def test_repeated_calls_are_identical():
    a, b = make(200, 300, 400, False, False, np.float32)
    first = core.gemm(a, b)
    for _ in range(5):
        np.testing.assert_array_equal(core.gemm(a, b), first)


# --------------------------------------------------------------------------------------------
# every kernel path, each in its own process
# --------------------------------------------------------------------------------------------
_CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import fastnn._core as core
    sys.path.insert(0, {testdir!r})
    from test_gemm import make, reference, check_close, TRANS
    out = {{"kernel": core.kernel_name()}}
    for dtype in (np.float32, np.float64):
        for ta, tb in TRANS:
            for M, N, K in [(1, 1, 1), (7, 13, 5), (33, 17, 65), (256, 300, 129), (32, 10, 8),
                            (9, 40, 700), (13, 11, 20)]:
                a, b = make(M, N, K, ta, tb, dtype)
                rng = np.random.default_rng(5)
                bias = rng.standard_normal(N).astype(dtype)
                c = rng.standard_normal((M, N)).astype(dtype)
                for kw in ({{}}, {{"bias": bias, "relu": True}}, {{"beta": 0.75, "c": c, "bias": bias}}):
                    check_close(core.gemm(a, b, trans_a=ta, trans_b=tb, **kw),
                                *reference(a, b, ta, tb, **kw))
                # a row alone equals the row in the batch; 1 and 2 threads agree
                full = core.gemm(a, b, trans_a=ta, trans_b=tb, bias=bias)
                row = np.ascontiguousarray(a[:, M - 1:M] if ta else a[M - 1:M])
                assert np.array_equal(core.gemm(row, b, trans_a=ta, trans_b=tb, bias=bias)[0], full[-1])
        a, b = make(300, 200, 500, False, True, dtype)
        core.set_num_threads(1)
        one = core.gemm(a, b, trans_b=True)
        core.set_num_threads(2)
        assert np.array_equal(core.gemm(a, b, trans_b=True), one)
    print(json.dumps(out))
    """
)


def _run(code, **env_extra):
    import fastnn

    env = dict(os.environ)
    env.update(env_extra)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=600)


def _has_isa(name):
    if name == "generic":
        return True
    r = _run("import fastnn._core as c; print(c.kernel_name())", FASTNN_KERNEL=name)
    return r.returncode == 0 and r.stdout.strip() == name


@pytest.mark.parametrize("kernel", ["generic", "avx2", "avx512"])
def test_kernel_path(kernel):
    if not _has_isa(kernel):
        pytest.skip(f"this CPU or build has no {kernel} kernels")
    r = _run(_CHECK.format(testdir=os.path.dirname(os.path.abspath(__file__))), FASTNN_KERNEL=kernel)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["kernel"] == kernel


def test_unknown_kernel_name_falls_back():
    r = _run("import fastnn._core as c; print(c.kernel_name())", FASTNN_KERNEL="no-such-isa")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in {"generic", "avx2", "avx512", "neon"}
    if "FASTNN_KERNEL" not in os.environ:  # the best available path, as without the variable
        assert r.stdout.strip() == core.kernel_name()


def test_kernel_name_is_known():
    assert core.kernel_name() in {"generic", "avx2", "avx512", "neon"}


# --------------------------------------------------------------------------------------------
# the thread pool
# --------------------------------------------------------------------------------------------
def test_num_threads_from_environment():
    r = _run("import fastnn._core as c; print(c.get_num_threads())", FASTNN_NUM_THREADS="3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3"


@pytest.mark.skipif(not hasattr(core, "physical_cores"), reason="no physical_cores binding")
def test_default_threads_is_physical_cores():
    env = {k: v for k, v in os.environ.items() if k != "FASTNN_NUM_THREADS"}
    code = "import fastnn._core as c; print(c.get_num_threads(), c.physical_cores())"
    import fastnn

    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    n, cores = map(int, r.stdout.split())
    assert n == cores >= 1


def test_set_num_threads_changes_count(threads_back):
    for n in (1, 2, 4, 1, 3):
        core.set_num_threads(n)
        assert core.get_num_threads() == n


def test_concurrent_callers(threads_back):
    core.set_num_threads(2)
    a, b = make(300, 200, 250, False, False, np.float32)
    expect = core.gemm(a, b)
    errors = []

    def worker():
        try:
            for _ in range(20):
                if not np.array_equal(core.gemm(a, b), expect):
                    errors.append("mismatch")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in ts), "deadlock"
    assert not errors, errors


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_pool_survives_fork():
    code = textwrap.dedent(
        """
        import os, sys
        import numpy as np
        import fastnn._core as core
        core.set_num_threads(2)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((300, 300)).astype(np.float32)
        b = rng.standard_normal((300, 300)).astype(np.float32)
        expect = core.gemm(a, b)          # the parent's workers exist now
        pid = os.fork()
        if pid == 0:
            ok = np.array_equal(core.gemm(a, b), expect) and np.array_equal(core.gemm(a, b), expect)
            core.set_num_threads(2)
            ok = ok and np.array_equal(core.gemm(a, b), expect)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0, status
        assert np.array_equal(core.gemm(a, b), expect)   # the parent keeps working
        print("ok")
        """
    )
    r = _run(code)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok"


def test_process_exits_cleanly_with_workers_alive():
    code = (
        "import numpy as np, fastnn._core as c; c.set_num_threads(2); "
        "a = np.ones((400, 400), np.float32); c.gemm(a, a); print('done')"
    )
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "done"
