"""One measurement of one framework on one workload, run in its own process by benchmarks/run.py.

    python benchmarks/peers.py FRAMEWORK WORKLOAD --threads T [--quick] [--memory]
                               [--precision mixed_bfloat16]

FRAMEWORK is fastnn, torch, keras or sklearn; WORKLOAD is w1, w2, w3 or w4; ``peak`` as FRAMEWORK
with WORKLOAD ``numpy`` times a large float32 matmul instead. The process prints one line
``RESULT {json}`` on stdout. run.py sets the thread environment variables (OMP_NUM_THREADS and
friends) before this process starts; the code here also sets each library's own thread count.

Every framework gets the same data (fastnn.datasets with the same seed) and the same model, written
the way that framework's documentation writes it ("idiomatic" code, see benchmarks/README.md). Each
framework is one small ``make_*`` function returning an adapter with:

    fit_epochs(k) -> list of k epoch times (s); one full pass over the data each, shuffled
    predict(x)    -> probabilities / outputs for all rows, batch 1024 where the API has a batch size
    predict_small(x) -> the same for one small batch (the latency path)
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
import traceback
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ----------------------------------------------------------------------------------------------
# workloads
# ----------------------------------------------------------------------------------------------
# units: layer widths after the input; acts: activation of each Dense layer.
WORKLOADS = {
    "w1": dict(
        title="W1 founding network 8-10-10-1",
        data="seed_task", n_features=8, units=[10, 10, 1], acts=["relu", "relu", "sigmoid"],
        loss="binary_crossentropy", batch_size=32, lr=1e-3,
        rows=dict(full=100000, quick=100000), repeats=dict(full=3, quick=1),
        predict_repeats=dict(full=5, quick=2), latency_calls=dict(full=3000, quick=500),
    ),
    "w2": dict(
        title="W2 MNIST-shaped 784-512-512-10",
        data="classification", n_features=784, units=[512, 512, 10],
        acts=["relu", "relu", "softmax"], loss="sparse_categorical_crossentropy", batch_size=128,
        lr=1e-3, rows=dict(full=60000, quick=12000), repeats=dict(full=3, quick=1),
        predict_repeats=dict(full=3, quick=2), latency_calls=dict(full=0, quick=0),
    ),
    "w3": dict(
        title="W3 wide 1024-4096-4096-1024",
        data="regression", n_features=1024, units=[4096, 4096, 1024],
        acts=["relu", "relu", "linear"], loss="mse", batch_size=256, lr=1e-3,
        rows=dict(full=4096, quick=1024), repeats=dict(full=2, quick=1),
        predict_repeats=dict(full=0, quick=0), latency_calls=dict(full=0, quick=0),
    ),
    # Wide enough that many of Adam's second moments decay into float32's subnormal range after a
    # few epochs (a CPU without flush-to-zero then takes a slow path on every update of them): the
    # steady-state rate shows whether that slows a library down.
    "w4": dict(
        title="W4 subnormal-prone 8-256-256-1",
        data="seed_task", n_features=8, units=[256, 256, 1], acts=["relu", "relu", "sigmoid"],
        loss="binary_crossentropy", batch_size=32, lr=1e-3,
        rows=dict(full=64000, quick=16000), repeats=dict(full=3, quick=1),
        predict_repeats=dict(full=0, quick=0), latency_calls=dict(full=0, quick=0),
    ),
}
# Epochs from this one on count as steady state (the model has trained for a while: Adam's moments
# have decayed, subnormals may have appeared); the epochs before it, after the warm-up, are "fresh".
STEADY_FROM_EPOCH = 5
PRECISIONS = ("float32", "mixed_bfloat16")
PREDICT_BATCH = 1024
LATENCY_ROWS = 32
# Timed fit epochs (and predict passes) go on past `repeats` until they add up to this many seconds
# (at most MAX_TIMED of them): an epoch of the founding network takes fastnn about 25 ms, too short
# to time once. The same rule holds for every library.
MIN_TIMED_S = dict(full=2.0, quick=0.5)
MAX_TIMED = 200


def n_params(spec) -> int:
    dims = [spec["n_features"]] + spec["units"]
    return sum(dims[i] * dims[i + 1] + dims[i + 1] for i in range(len(dims) - 1))


def train_flops(spec) -> int:
    """Matrix-product flops of one training sample: 2 per weight for the forward pass, 2 per weight
    for the weight gradient, and 2 per weight for the input gradient of every layer but the first
    (no framework computes the gradient with respect to the data)."""
    dims = [spec["n_features"]] + spec["units"]
    weights = [dims[i] * dims[i + 1] for i in range(len(dims) - 1)]
    return 6 * sum(weights) - 2 * weights[0]


def load_datasets():
    """fastnn.datasets, loaded from the source file when this is a checkout.

    Loading the file directly keeps fastnn's native library out of the peers' processes.
    """
    path = os.path.join(REPO, "python", "fastnn", "datasets.py")
    if os.path.exists(path):
        spec = importlib.util.spec_from_file_location("fastnn_bench_datasets", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    from fastnn import datasets  # an installed package without a checkout around it

    return datasets


def make_data(spec, rows: int, seed: int):
    """The workload's data, generated with numpy's BLAS on one thread: the same bits in every
    process, and no BLAS worker threads left spinning beside the library under test (OpenBLAS's
    keep polling for a while after a product and slow a neighbouring core)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return _make_data(spec, rows, seed)
    with threadpool_limits(1, user_api="blas"):
        return _make_data(spec, rows, seed)


def _make_data(spec, rows: int, seed: int):
    ds = load_datasets()
    if spec["data"] == "seed_task":
        (x, y), _ = ds.seed_task(n_samples=rows, test_split=0.0, seed=seed)
    elif spec["data"] == "classification":
        (x, y), _ = ds.classification(n_samples=rows, n_features=spec["n_features"],
                                      n_classes=spec["units"][-1], test_split=0.0, seed=seed)
    else:
        (x, y), _ = ds.regression(n_samples=rows, n_features=spec["n_features"],
                                  n_targets=spec["units"][-1], test_split=0.0, seed=seed)
    return x, y


# ----------------------------------------------------------------------------------------------
# framework adapters
# ----------------------------------------------------------------------------------------------
class Adapter:
    def __init__(self, fit_epoch=None, predict=None, predict_small=None, info=None,
                 fit_epochs=None):
        self._fit_epoch = fit_epoch
        self._fit_epochs = fit_epochs
        self.predict = predict
        self.predict_small = predict_small
        self.info = info or {}

    def fit_epochs(self, k: int):
        if self._fit_epochs is not None:
            return self._fit_epochs(k)
        times = []
        for _ in range(k):
            t0 = time.perf_counter()
            self._fit_epoch()
            times.append(time.perf_counter() - t0)
        return times


def import_fastnn():
    """fastnn as installed; failing that, the checkout's python/ folder (a built tree)."""
    try:
        import fastnn
        fastnn.Sequential  # noqa: B018  (fails on a half-built package)
        return fastnn, "installed"
    except Exception as first:  # noqa: BLE001
        sys.modules.pop("fastnn", None)
        sys.path.insert(0, os.path.join(REPO, "python"))
        try:
            import fastnn
            fastnn.Sequential  # noqa: B018
            return fastnn, "checkout python/"
        except Exception as second:  # noqa: BLE001
            raise ImportError(f"fastnn is not importable: {first!r}; from the checkout: "
                              f"{second!r}. Build it with `pip install .`") from second


def make_fastnn(spec, x, y, threads, precision="float32"):
    """fastnn's Keras-like API, exactly as a user writes it; mixed_bfloat16 through compile's
    dtype_policy (bfloat16 matrix products, float32 weights, optimizer state and loss)."""
    fn, where = import_fastnn()
    fn.set_num_threads(threads)
    model = fn.Sequential([fn.layers.Input(shape=(spec["n_features"],))]
                          + [fn.layers.Dense(u, activation=a)
                             for u, a in zip(spec["units"], spec["acts"])])
    policy = {} if precision == "float32" else dict(dtype_policy=precision)
    model.compile(optimizer=fn.optimizers.Adam(learning_rate=spec["lr"]), loss=spec["loss"],
                  **policy)
    info = dict(version=getattr(fn, "__version__", "?"), imported_from=where,
                module_file=os.path.relpath(fn.__file__, REPO) if fn.__file__.startswith(REPO)
                else "site-packages", threads=fn.get_num_threads() if hasattr(fn, "get_num_threads")
                else threads)
    if hasattr(fn, "kernel_name"):
        info["kernel"] = fn.kernel_name()
    info["precision"] = precision
    return Adapter(
        fit_epoch=lambda: model.fit(x, y, batch_size=spec["batch_size"], epochs=1, verbose=0,
                                    shuffle=True),
        predict=lambda xs: model.predict(xs, batch_size=PREDICT_BATCH, verbose=0),
        predict_small=lambda xs: model.predict_on_batch(xs),
        info=info)


def make_torch(spec, x, y, threads, precision="float32"):
    """An eager PyTorch loop: nn.Sequential, torch.optim.Adam, a permuted index per epoch,
    batches sliced from tensors (no DataLoader); loss on logits (BCEWithLogitsLoss,
    CrossEntropyLoss) and the sigmoid/softmax applied at prediction, as PyTorch recommends.
    mixed_bfloat16: forward and loss under torch.autocast("cpu", dtype=torch.bfloat16), as
    PyTorch's documentation writes mixed precision on the CPU (float32 parameters and Adam)."""
    import contextlib

    import torch

    def autocast():
        if precision == "float32":
            return contextlib.nullcontext()
        return torch.autocast("cpu", dtype=torch.bfloat16)

    torch.set_num_threads(threads)
    dims = [spec["n_features"]] + spec["units"]
    layers = []
    for i, act in enumerate(spec["acts"]):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if act == "relu":
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    if spec["loss"] == "binary_crossentropy":
        loss_fn, out_fn = torch.nn.BCEWithLogitsLoss(), torch.sigmoid
        yt = torch.from_numpy(y.reshape(-1, 1))
    elif spec["loss"] == "sparse_categorical_crossentropy":
        loss_fn, out_fn = torch.nn.CrossEntropyLoss(), lambda z: torch.softmax(z, dim=1)
        yt = torch.from_numpy(y)
    else:
        loss_fn, out_fn = torch.nn.MSELoss(), lambda z: z
        yt = torch.from_numpy(y)
    xt = torch.from_numpy(x)
    n, bs = len(x), spec["batch_size"]

    def fit_epoch():
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            with autocast():
                loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    def predict(xs):
        model.eval()
        with torch.inference_mode():
            xs = torch.from_numpy(xs)
            with autocast():
                return torch.cat([out_fn(model(xs[i:i + PREDICT_BATCH])).float()
                                  for i in range(0, len(xs), PREDICT_BATCH)]).numpy()

    def predict_small(xs):
        with torch.inference_mode(), autocast():
            return out_fn(model(torch.from_numpy(xs))).float().numpy()

    info = dict(version=torch.__version__, threads=torch.get_num_threads(),
                loss=type(loss_fn).__name__, precision=precision,
                parallel=torch.__config__.parallel_info().splitlines()[:6])
    return Adapter(fit_epoch=fit_epoch, predict=predict, predict_small=predict_small, info=info)


def make_keras(spec, x, y, threads):
    """Keras 3 on TensorFlow: Sequential, compile, fit(verbose=0), predict(batch_size=1024),
    predict_on_batch for the latency path. compile() keeps its defaults (jit_compile="auto")."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    model = keras.Sequential([keras.Input(shape=(spec["n_features"],))]
                             + [keras.layers.Dense(u, activation=a)
                                for u, a in zip(spec["units"], spec["acts"])])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=spec["lr"]), loss=spec["loss"])
    bs = spec["batch_size"]

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t0)

    def fit_epochs(k):
        # One fit() call for all k epochs, timed per epoch by a callback: steady-state epochs,
        # without fit()'s per-call set-up (building the tf.data pipeline).
        timer = EpochTimer()
        model.fit(x, y, batch_size=bs, epochs=k, verbose=0, shuffle=True, callbacks=[timer])
        return timer.times

    info = dict(version=keras.__version__, tensorflow=tf.__version__,
                backend=keras.backend.backend(), jit_compile=bool(model.jit_compile),
                threads=dict(intra=tf.config.threading.get_intra_op_parallelism_threads(),
                             inter=tf.config.threading.get_inter_op_parallelism_threads()),
                latency_call="model.predict_on_batch")
    adapter = Adapter(fit_epochs=fit_epochs,
                      predict=lambda xs: model.predict(xs, batch_size=PREDICT_BATCH, verbose=0),
                      predict_small=lambda xs: model.predict_on_batch(xs), info=info)
    adapter.call_small = lambda xs: model(xs, training=False).numpy()
    return adapter


def make_sklearn(spec, x, y, threads):
    """scikit-learn's MLPClassifier (adam, the same layers and batch size); one partial_fit call
    is one epoch; predict_proba on all rows at once (it has no batch size)."""
    from sklearn.neural_network import MLPClassifier

    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass  # the environment variables set by run.py still apply
    if spec["loss"] not in ("binary_crossentropy", "sparse_categorical_crossentropy"):
        raise NotImplementedError("scikit-learn is only run on the classification workloads")
    model = MLPClassifier(hidden_layer_sizes=tuple(spec["units"][:-1]), activation="relu",
                          solver="adam", learning_rate_init=spec["lr"],
                          batch_size=spec["batch_size"], max_iter=1, shuffle=True,
                          tol=0.0, n_iter_no_change=10**9, random_state=0)
    classes = np.unique(y)

    def fit_epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(x, y, classes=classes)

    import sklearn

    info = dict(version=sklearn.__version__, threads=threads, estimator="MLPClassifier",
                fit="partial_fit (one epoch per call)", predict="predict_proba (no batch size)")
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads",
                                               "architecture")} for p in threadpool_info()]
    except ImportError:
        pass
    return Adapter(fit_epoch=fit_epoch, predict=model.predict_proba,
                   predict_small=model.predict_proba, info=info)


MAKERS = dict(fastnn=make_fastnn, torch=make_torch, keras=make_keras, sklearn=make_sklearn)


# ----------------------------------------------------------------------------------------------
# measurements
# ----------------------------------------------------------------------------------------------
def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def maxrss_bytes() -> int:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def hwm_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_hwm() -> bool:
    """Resets the kernel's peak-RSS mark (VmHWM) of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def scaled_rows(spec, mode, scale):
    return max(spec["batch_size"] * 2, int(spec["rows"][mode] * scale))


def run_timing(framework, wl, threads, quick, seed, scale=1.0, precision="float32"):
    spec = WORKLOADS[wl]
    mode = "quick" if quick else "full"
    x, y = make_data(spec, scaled_rows(spec, mode, scale), seed)
    t0 = time.perf_counter()
    if precision == "float32":
        ad = MAKERS[framework](spec, x, y, threads)
    elif framework in ("fastnn", "torch"):
        ad = MAKERS[framework](spec, x, y, threads, precision=precision)
    else:
        raise NotImplementedError(f"{framework} is run in float32 only here")
    out = dict(info=ad.info, rows=len(x), setup_s=time.perf_counter() - t0, precision=precision)
    repeats = spec["repeats"][mode]
    min_s = MIN_TIMED_S[mode]
    # Epoch 1 is a warm-up; epochs 2 .. 1+repeats (at most epoch 4) are the fresh ones; epochs
    # STEADY_FROM_EPOCH and later, timed until they add up to min_s (short epochs are noisy), are
    # the steady state. Each figure is the best epoch of its group (all are kept).
    fresh_n = min(repeats, STEADY_FROM_EPOCH - 2)
    times = ad.fit_epochs(1 + fresh_n)
    times += ad.fit_epochs(STEADY_FROM_EPOCH - 1 - len(times) + max(1, repeats))
    steady = lambda: times[STEADY_FROM_EPOCH - 1:]  # noqa: E731
    while sum(steady()) < min_s and len(steady()) < MAX_TIMED:
        more = math.ceil((min_s - sum(steady())) / max(min(steady()), 1e-6))
        times += ad.fit_epochs(max(1, min(more, MAX_TIMED - len(steady()))))
    out["warmup_epoch_s"] = times[0]
    out["epoch_s"] = times[1:]
    out["fresh_epochs"] = [2, 1 + fresh_n]
    out["steady_from_epoch"] = STEADY_FROM_EPOCH
    out["fit_samples_per_s"] = len(x) / min(times[1:1 + fresh_n])
    out["steady_samples_per_s"] = len(x) / min(steady())
    if spec["predict_repeats"][mode] and ad.predict is not None:
        ad.predict(x[:PREDICT_BATCH * 2])  # warm-up (graph tracing, allocations)
        ptimes = []
        while len(ptimes) < spec["predict_repeats"][mode] or (
                sum(ptimes) < min_s and len(ptimes) < MAX_TIMED):
            t = time.perf_counter()
            ad.predict(x)
            ptimes.append(time.perf_counter() - t)
        out["predict_s"] = ptimes
        out["predict_samples_per_s"] = len(x) / min(ptimes)
    calls = int(spec["latency_calls"][mode] * min(1.0, scale))
    if calls and ad.predict_small is not None:
        small = np.ascontiguousarray(x[:LATENCY_ROWS])
        out["latency_us"] = median_latency_us(ad.predict_small, small, calls)
        if hasattr(ad, "call_small"):
            out["latency_model_call_us"] = median_latency_us(ad.call_small, small, calls)
    return out


def median_latency_us(f, xs, calls):
    for _ in range(min(50, calls)):
        f(xs)
    samples = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        f(xs)
        samples.append(time.perf_counter_ns() - t)
    return statistics.median(samples) / 1000.0


def run_memory(framework, wl, threads, quick, seed, scale=1.0):
    """Peak RSS of one fit epoch, after the data and the model exist."""
    spec = WORKLOADS[wl]
    mode = "quick" if quick else "full"
    x, y = make_data(spec, scaled_rows(spec, mode, scale), seed)
    ad = MAKERS[framework](spec, x, y, threads)
    gc.collect()
    rss_before = rss_bytes()
    maxrss_before = maxrss_bytes()
    hwm_reset = reset_hwm()
    ad.fit_epochs(1)
    maxrss_after = maxrss_bytes()
    hwm = hwm_bytes() if hwm_reset else None
    # With the reset, VmHWM is the peak during fit alone; without it, ru_maxrss also covers
    # everything before fit (data generation), and fit_peak is only an upper bound.
    peak = hwm if hwm is not None else maxrss_after
    out = dict(info=ad.info, rows=len(x), rss_before_fit=rss_before,
               maxrss_before_fit=maxrss_before, maxrss_after_fit=maxrss_after,
               vmhwm_during_fit=hwm, peak_from="VmHWM after reset" if hwm is not None
               else "ru_maxrss", fit_peak_bytes=peak, fit_added_bytes=max(0, peak - rss_before))
    p = n_params(spec)
    dims = [spec["n_features"]] + spec["units"]
    out["estimate"] = dict(
        data_bytes=int(x.nbytes + y.nbytes),
        param_bytes=4 * p,
        grad_bytes=4 * p,
        adam_state_bytes=8 * p,
        # Per batch: each layer's output and its gradient (and the pre-activation kept for the
        # backward pass), float32.
        batch_workspace_bytes=4 * spec["batch_size"] * sum(dims[1:]) * 3,
    )
    return out


def run_peak_numpy(threads, quick):
    """Best time of a large float32 matmul through numpy's BLAS."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(threads)
        blas = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                for p in threadpool_info()]
    except ImportError:
        blas = None
    n = 2048 if quick else 4096
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = a @ b
    best = float("inf")
    for _ in range(3 if quick else 5):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return dict(n=n, best_s=best, gflops=2.0 * n ** 3 / best / 1e9, numpy=np.__version__,
                blas=blas, method=f"best of repeated float32 {n}x{n} @ {n}x{n} np.matmul, "
                                 f"2*n^3 flops")


def run_shape(lib, threads, shape, seconds):
    """GFLOP/s of one (M, K) @ (K, N) float32 product repeated for about `seconds`, through numpy's
    matmul (lib "numpy") or fastnn's GEMM (lib "gemm"): the best of ten equal windows, so a pause
    of the process does not count."""
    M, K, N = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K), dtype=np.float32)
    b = rng.standard_normal((K, N), dtype=np.float32)
    if lib == "gemm":
        fastnn, _ = import_fastnn()
        fastnn.set_num_threads(threads)
        from fastnn import _core

        def product():
            _core.gemm(a, b)
        name = "fastnn GEMM"
    else:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(threads)
        except ImportError:
            pass
        c = a @ b

        def product():
            np.matmul(a, b, out=c)
        name = "np.matmul"
    product()
    t = time.perf_counter()
    calls = 0
    while time.perf_counter() - t < 0.2:
        product()
        calls += 1
    per_window = max(1, int(calls * seconds / 0.2 / 10))
    best = float("inf")
    for _ in range(10):
        t = time.perf_counter()
        for _ in range(per_window):
            product()
        best = min(best, (time.perf_counter() - t) / per_window)
    return dict(shape=[M, K, N], best_s=best, gflops=2.0 * M * K * N / best / 1e9,
                method=f"float32 ({M}x{K}) @ ({K}x{N}) {name}, best of 10 windows of "
                       f"{per_window} calls")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("framework", choices=list(MAKERS) + ["peak"])
    ap.add_argument("workload", choices=list(WORKLOADS) + ["numpy", "gemm"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the workload's row count (smoke tests of the harness)")
    ap.add_argument("--shape", default=None,
                    help="peak only: M,K,N of one matmul shape repeated for --seconds")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--precision", default="float32", choices=PRECISIONS,
                    help="fastnn: compile(dtype_policy=...); PyTorch: torch.autocast bfloat16")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.framework == "peak" and args.shape:
            result = run_shape(args.workload, args.threads,
                               [int(v) for v in args.shape.split(",")], args.seconds)
        elif args.framework == "peak":
            result = run_peak_numpy(args.threads, args.quick)
        elif args.memory:
            result = run_memory(args.framework, args.workload, args.threads, args.quick,
                                args.seed, args.scale)
        else:
            result = run_timing(args.framework, args.workload, args.threads, args.quick,
                                args.seed, args.scale, args.precision)
        result["ok"] = True
    except Exception as e:  # noqa: BLE001  (reported to run.py, which prints it in the table)
        # Paths relative to the checkout: the results may be committed.
        result = dict(ok=False, error=f"{type(e).__name__}: {e}".replace(REPO, "."),
                      traceback=traceback.format_exc()[-3000:].replace(REPO, "."))
    result.update(framework=args.framework, workload=args.workload, threads=args.threads,
                  quick=args.quick, memory=args.memory, scale=args.scale, wall_s=time.perf_counter() - t0,
                  python=platform.python_version(), numpy=np.__version__)
    sys.stdout.write("RESULT " + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
