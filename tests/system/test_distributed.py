"""Data-parallel training (fastnn.distributed): 1, 2 and 4 ranks give the weights and History of one
process bit for bit, under MPI (mpiexec from the mpich wheel) and torch.distributed (gloo on
loopback), from the Keras face and from fastnn.sklearn's estimators; a failing rank ends the job
with its error; the checks and refusals of DataParallel."""
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import fastnn
import numpy as np
import pytest
from fastnn.distributed import DataParallel, LocalCommunicator, launched_by

HERE = Path(__file__).parent
JOB = HERE / "distributed" / "job.py"
SKLEARN_JOB = HERE / "distributed" / "sklearn_job.py"
sys.path.insert(0, str(HERE / "distributed"))
import job

HAVE_MPI = importlib.util.find_spec("mpi4py") is not None
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
needs_mpi = pytest.mark.skipif(not (HAVE_MPI and MPIEXEC), reason="mpi4py or mpiexec is not installed "
                               "(pip install 'fastnn[mpi]')")
try:
    import torch.distributed as _tdist
    HAVE_GLOO = _tdist.is_available() and _tdist.is_gloo_available()
except ImportError:
    HAVE_GLOO = False
needs_gloo = pytest.mark.skipif(not HAVE_GLOO, reason="torch.distributed with gloo is not installed")
needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="scikit-learn is not installed (pip install 'fastnn[sklearn]')")

JOB_TIMEOUT = 120  # seconds for a whole multi-process job (it takes a few)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(Path(fastnn.__file__).parent.parent),
                                                    env.get("PYTHONPATH", "")] if p)
    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID"):
        env.pop(k, None)
    return env


@pytest.fixture(scope="module")
def reference():
    """The single-process run (DataParallel on one rank, the machine's default thread count)."""
    return {opt: job.train(DataParallel(LocalCommunicator(), shard_rows=16), opt) for opt in ("adam", "sgd")}


def _load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _assert_same(ref, got, where):
    assert sorted(ref) == sorted(got)
    for k in ref:
        assert ref[k].dtype == got[k].dtype and np.array_equal(ref[k], got[k]), f"{k} differs on {where}"


def _mpiexec(n, out, *args, timeout=JOB_TIMEOUT, script=JOB):
    cmd = [MPIEXEC, "-n", str(n), sys.executable, str(script), str(out), "--comm", "mpi", *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=_env())


@needs_mpi
@pytest.mark.parametrize("ranks,opt", [(2, "adam"), (2, "sgd"), (4, "sgd")])
def test_mpi_ranks_match_one_process(tmp_path, reference, ranks, opt):
    out = tmp_path / "r.npz"
    r = _mpiexec(ranks, out, "--opt", opt)
    assert r.returncode == 0, r.stdout + r.stderr
    _assert_same(reference[opt], _load(out), "rank 0")
    for rank in range(1, ranks):
        _assert_same(reference[opt], _load(f"{out}.rank{rank}.npz"), f"rank {rank}")


@needs_mpi
def test_mpi_failing_rank_ends_the_job(tmp_path):
    t0 = time.monotonic()
    r = _mpiexec(2, tmp_path / "r.npz", "--fail-rank", "1", "--timeout", "15", timeout=90)
    assert r.returncode != 0
    assert "rank 1 failed on purpose" in r.stdout + r.stderr
    assert time.monotonic() - t0 < 90


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torch_job(tmp_path, *args, timeout=JOB_TIMEOUT, script=JOB):
    out = tmp_path / "t.npz"
    port = _free_port()
    procs = []
    for rank in range(2):
        env = _env()
        env.update(RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        procs.append(subprocess.Popen([sys.executable, str(script), str(out), *args], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs, codes = [], []
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            text, _ = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        outputs.append(text)
        codes.append(p.returncode)
    return out, codes, "\n".join(outputs)


@needs_gloo
def test_torch_gloo_two_ranks_match_one_process(tmp_path, reference):
    out, codes, text = _torch_job(tmp_path, "--opt", "adam")
    assert codes == [0, 0], text
    _assert_same(reference["adam"], _load(out), "rank 0")
    _assert_same(reference["adam"], _load(f"{out}.rank1.npz"), "rank 1")


@needs_gloo
def test_torch_failing_rank_ends_the_job(tmp_path):
    _out, codes, text = _torch_job(tmp_path, "--fail-rank", "1", "--timeout", "15", timeout=90)
    assert codes[1] != 0 and codes[0] != 0, text
    assert "rank 1 failed on purpose" in text


# ------------------------------------------------------------------------------ sklearn estimators
@contextlib.contextmanager
def _quiet():
    """No ConvergenceWarning: the fits here are short on purpose."""
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def sklearn_reference():
    """The estimators' fits of sklearn_job on one process (DataParallel on one rank); the job seeds
    the global generator, which is restored afterwards."""
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install 'fastnn[sklearn]')")
    import sklearn_job
    state = np.random.get_state()
    try:
        with _quiet():
            return sklearn_job.train(DataParallel(LocalCommunicator(), shard_rows=16))
    finally:
        np.random.set_state(state)


def test_sklearn_reference_exercises_the_stop_rules(sklearn_reference):
    # The job's fits must stop early (validation score; training loss) and change the adaptive
    # rate, or the ranks' agreement on those decisions would go untested.
    ref = sklearn_reference
    assert 1 < int(ref["adam_es_n_iter"]) < 30 and ref["adam_es_val_scores"].size == int(ref["adam_es_n_iter"])
    assert int(ref["global_rng_n_iter"]) < 10
    assert float(ref["sgd_nesterov_rate"]) < 0.05
    assert int(ref["sgd_warm_t"]) == 7 * 230 and int(ref["adam_partial_n_iter"]) == 1


@needs_mpi
@pytest.mark.parametrize("ranks", [2, 4])
def test_mpi_sklearn_ranks_match_one_process(tmp_path, sklearn_reference, ranks):
    out = tmp_path / "s.npz"
    r = _mpiexec(ranks, out, script=SKLEARN_JOB)
    assert r.returncode == 0, r.stdout + r.stderr
    _assert_same(sklearn_reference, _load(out), "rank 0")
    for rank in range(1, ranks):
        _assert_same(sklearn_reference, _load(f"{out}.rank{rank}.npz"), f"rank {rank}")


@needs_mpi
def test_mpi_sklearn_failing_rank_ends_the_job(tmp_path):
    r = _mpiexec(2, tmp_path / "s.npz", "--fail-rank", "1", "--timeout", "15", timeout=90, script=SKLEARN_JOB)
    assert r.returncode != 0
    assert "rank 1 failed on purpose" in r.stdout + r.stderr


@needs_gloo
def test_torch_gloo_sklearn_two_ranks_match_one_process(tmp_path, sklearn_reference):
    out, codes, text = _torch_job(tmp_path, script=SKLEARN_JOB)
    assert codes == [0, 0], text
    _assert_same(sklearn_reference, _load(out), "rank 0")
    _assert_same(sklearn_reference, _load(f"{out}.rank1.npz"), "rank 1")


@needs_gloo
def test_torch_sklearn_failing_rank_ends_the_job(tmp_path):
    _out, codes, text = _torch_job(tmp_path, "--fail-rank", "1", "--timeout", "15", timeout=90, script=SKLEARN_JOB)
    assert codes[1] != 0 and codes[0] != 0, text
    assert "rank 1 failed on purpose" in text


def _sk_data(n=150):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, 5))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1), X @ rng.normal(size=5), rng.uniform(0.5, 2, n)


def _same_fit(a, b):
    return (all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))
            and a.loss_curve_ == b.loss_curve_ and a.n_iter_ == b.n_iter_)


@needs_sklearn
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_sklearn_one_shard_per_batch_is_plain_fit(solver):
    # scikit-learn's objective in the sharded step: with one shard per batch it is the plain native
    # epoch bit for bit (shuffling, sample weights, early stopping and all); with smaller shards the
    # same fit to rounding (plain fit is the one tests/parity compares with scikit-learn).
    from fastnn.sklearn import MLPClassifier
    X, labels, _t, sw = _sk_data()
    kw = dict(hidden_layer_sizes=(12,), batch_size=30, random_state=4, solver=solver, max_iter=6,
              early_stopping=True, validation_fraction=0.2, n_iter_no_change=2)
    with _quiet():
        plain = MLPClassifier(**kw).fit(X, labels, sample_weight=sw)
        one = MLPClassifier(**kw).fit(X, labels, sample_weight=sw, distribution=DataParallel("local", shard_rows=30))
        small = MLPClassifier(**kw).fit(X, labels, sample_weight=sw, distribution=DataParallel("local", shard_rows=7))
    assert _same_fit(plain, one)
    assert np.array_equal(plain.predict_proba(X), one.predict_proba(X))
    for p, q in zip(plain.coefs_ + plain.intercepts_, small.coefs_ + small.intercepts_):
        np.testing.assert_allclose(q, p, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(small.loss_curve_, plain.loss_curve_, rtol=1e-12)


@needs_sklearn
def test_sklearn_scope_and_argument_train_alike():
    from fastnn.sklearn import MLPRegressor
    X, _l, t, _sw = _sk_data()
    kw = dict(hidden_layer_sizes=(8,), batch_size=32, random_state=1, max_iter=3)
    with _quiet():
        a = MLPRegressor(**kw).fit(X, t, distribution=DataParallel("local", shard_rows=8))
        with DataParallel("local", shard_rows=8):
            b = MLPRegressor(**kw).fit(X, t)
        c = MLPRegressor(**kw).fit(X, t)        # no scope: plain fit, another summation order
    assert _same_fit(a, b)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    np.testing.assert_allclose(a.coefs_[0], c.coefs_[0], rtol=1e-10, atol=1e-12)


@needs_sklearn
def test_sklearn_refusals_and_params():
    import scipy.sparse as sp
    from fastnn import sklearn as fsk
    from sklearn.base import clone
    X, labels, _t, _sw = _sk_data(60)
    dp = DataParallel("local")
    with pytest.raises(ValueError, match="lbfgs"):
        fsk.MLPClassifier(solver="lbfgs").fit(X, labels, distribution=dp)
    with pytest.raises(ValueError, match="'rmsprop'.*not sharded"):
        fsk.MLPClassifier(solver="rmsprop").fit(X, labels, distribution=dp)
    with pytest.raises(ValueError, match="sparse X"):
        fsk.MLPClassifier(max_iter=1).fit(sp.csr_matrix(X), labels, distribution=dp)
    with pytest.raises(ValueError, match="sparse X"), DataParallel("local"):
        fsk.MLPClassifier(max_iter=1).partial_fit(sp.csr_matrix(X), labels, classes=[0, 1, 2])
    with pytest.raises(TypeError, match="distribution"):
        fsk.MLPClassifier(max_iter=1).fit(X, labels, distribution="mpi")
    est = fsk.MLPClassifier(max_iter=1)
    assert "distribution" not in est.get_params()
    assert clone(est).get_params() == est.get_params()


# ------------------------------------------------------------------------------------ one process
def _model(seed=3, dropout=0.0, batchnorm=False):
    layers = [fastnn.layers.Input((6,)), fastnn.layers.Dense(10, activation="tanh")]
    if dropout:
        layers.append(fastnn.layers.Dropout(dropout))
    if batchnorm:
        layers.append(fastnn.layers.BatchNormalization())
    layers.append(fastnn.layers.Dense(1))
    m = fastnn.Sequential(layers, seed=seed)
    m.compile(fastnn.optimizers.Adam(1e-2), "mse")
    return m


def _data(n=150):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    return X, (X @ rng.normal(size=6)).astype(np.float32)


def test_scope_and_argument_train_alike():
    X, y = _data()
    a = _model(dropout=0.3)
    ha = a.fit(X, y, batch_size=40, epochs=2, verbose=0, distribution=DataParallel("local", shard_rows=8))
    b = _model(dropout=0.3)
    with DataParallel("local", shard_rows=8):
        hb = b.fit(X, y, batch_size=40, epochs=2, verbose=0)
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)
    c = _model(dropout=0.3)  # no scope any more: plain fit, other dropout masks
    c.fit(X, y, batch_size=40, epochs=2, verbose=0)
    assert not np.array_equal(c.get_weights()[0], a.get_weights()[0])


def test_one_shard_per_batch_is_plain_fit():
    # With one shard per batch the gradient is the plain fit's one product over the batch: same bits
    # (without shuffling, whose generator DataParallel also draws each batch's dropout key from).
    X, y = _data()
    a, b = _model(), _model()
    ha = a.fit(X, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    hb = b.fit(X, y, batch_size=32, epochs=2, verbose=0, shuffle=False,
               distribution=DataParallel("local", shard_rows=32))
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)


def test_sharded_gradient_is_the_batch_gradient():
    # Against float64 numpy: one sharded SGD step equals lr * the gradient of the mean loss.
    X, y = _data(50)
    m = fastnn.Sequential([fastnn.layers.Input((6,)), fastnn.layers.Dense(1)], seed=5, dtype="float64")
    m.compile(fastnn.optimizers.SGD(0.1), "mse")
    W0, b0 = [w.copy() for w in m.get_weights()]
    Xd, yd = X.astype(np.float64), y.astype(np.float64)
    m.fit(Xd, yd, batch_size=50, epochs=1, shuffle=False, verbose=0, distribution=DataParallel("local", shard_rows=7))
    r = Xd @ W0 + b0 - yd[:, None]
    np.testing.assert_allclose(m.get_weights()[0], W0 - 0.1 * 2 * Xd.T @ r / 50, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m.get_weights()[1], b0 - 0.1 * 2 * r.sum(0) / 50, rtol=1e-12, atol=1e-14)


def test_batchnorm_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="BatchNormalization"):
        _model(batchnorm=True).fit(X, y, epochs=1, verbose=0, distribution=DataParallel("local"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="shard_rows"):
        DataParallel(shard_rows=0)
    with pytest.raises(TypeError, match="communicator"):
        DataParallel(communicator=3.5)
    with pytest.raises(ValueError, match="communicator"):
        _ = DataParallel(communicator="smoke-signals").communicator
    with pytest.raises(ValueError, match="timeout"):
        LocalCommunicator(timeout=-1)
    X, y = _data()
    with pytest.raises(TypeError, match="distribution"):
        _model().fit(X, y, epochs=1, verbose=0, distribution="mpi")
    c = LocalCommunicator()
    with pytest.raises(ValueError, match="recv"):
        c.all_gather(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="root"):
        c.broadcast(np.zeros(3), root=1)


def test_launch_detection(monkeypatch):
    for k in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
              "MPI_LOCALNRANKS", "TORCHELASTIC_RUN_ID", "RANK", "WORLD_SIZE", "MASTER_ADDR"):
        monkeypatch.delenv(k, raising=False)
    tdist = sys.modules.get("torch.distributed")
    if tdist is not None and tdist.is_available() and tdist.is_initialized():
        pytest.skip("a torch.distributed group is initialized in this process")
    assert launched_by() is None
    assert DataParallel().size == 1
    monkeypatch.setenv("PMI_RANK", "0")
    assert launched_by() == "mpi"
    monkeypatch.delenv("PMI_RANK")
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    assert launched_by() == "torch"


def test_shard_layout():
    lay = fastnn._core.NetworkF32.shard_layout
    # (shards, slots, blocks, slots per block, blocks per rank)
    assert lay(128, 128, 32, 1) == (4, 4, 1, 4, 1)
    assert lay(128, 128, 32, 2) == (4, 4, 2, 2, 1)
    assert lay(40, 128, 32, 4) == (2, 4, 4, 1, 1)
    assert lay(100, 100, 32, 3) == (4, 4, 4, 1, 2)
    assert lay(64, 64, 32, 8) == (2, 2, 2, 1, 1)


def test_nothing_distributed_imported_unless_used():
    code = ("import sys, numpy as np, fastnn\n"
            "from fastnn.distributed import DataParallel\n"
            "m = fastnn.Sequential([fastnn.layers.Input((2,)), fastnn.layers.Dense(1)], seed=1)\n"
            "m.compile('sgd', 'mse')\n"
            "m.fit(np.ones((8, 2), 'f4'), np.ones(8, 'f4'), verbose=0, distribution=DataParallel('local'))\n"
            "print(sorted(k for k in ('mpi4py', 'torch', 'dask', 'distributed') if k in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60, env=_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
