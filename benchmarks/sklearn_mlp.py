"""fastnn.sklearn.MLPClassifier against scikit-learn's MLPClassifier: same data, same parameters
(hence the same initial weights and batch order), fit time and test accuracy, one markdown row each.

    python benchmarks/sklearn_mlp.py [--threads T] [--rows N] [--epochs E] [--repeats R]

Workloads: the founding network's shape (8 -> 10 relu -> 10 relu -> logistic output, Adam 1e-3,
batch 32) on fastnn's seed task; scikit-learn's digits (64 -> 100 relu -> softmax, the default Adam
with batch "auto" = 200); and a larger one (scikit-learn's make_classification, 64 features, 10
classes -> 256 relu -> 256 relu -> softmax, batch 200). Every run is a fixed number of epochs (tol=0:
no early stop), the best of --repeats fits; threads are pinned for both libraries (scikit-learn's
BLAS through threadpoolctl). "fastnn loop" is fastnn.sklearn with its native epochs switched off (one
Python round per batch, as before the native path).
"""
from __future__ import annotations

import argparse
import os
import platform
import time
import warnings


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _time_fit(make, X, y, repeats):
    best, est = float("inf"), None
    for _ in range(repeats):
        est = make()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    return best, est


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--rows", type=int, default=20000, help="training rows of the seed task")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    from sklearn.datasets import load_digits, make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLP
    from threadpoolctl import threadpool_limits

    import fastnn
    from fastnn import datasets
    import fastnn.sklearn as fnsk
    from fastnn.sklearn import MLPClassifier as FnMLP

    fastnn.set_num_threads(args.threads)
    (xs, ys), (xt, yt) = datasets.seed_task(n_samples=int(args.rows * 1.25), test_split=0.2, seed=0)
    Xd, yd = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(Xd / 16.0, yd, random_state=0)
    Xl, yl = make_classification(n_samples=int(args.rows * 1.25), n_features=64, n_informative=32,
                                 n_classes=10, n_clusters_per_class=2, random_state=0)
    Xltr, Xlte, yltr, ylte = train_test_split(Xl, yl, test_size=0.2, random_state=0)
    workloads = [
        ("founding network 8-10-10-1, seed task", (10, 10), 32, (xs.astype(np.float64), ys.ravel()),
         (xt, yt.ravel())),
        ("digits 64-100-10", (100,), "auto", (Xtr, ytr), (Xte, yte)),
        ("64-256-256-10, make_classification", (256, 256), 200, (Xltr, yltr), (Xlte, ylte)),
    ]
    print(f"CPU: {_cpu()}; threads: {args.threads}; fastnn {fastnn.__version__} ({fastnn.kernel_name()}), "
          f"scikit-learn {__import__('sklearn').__version__}; {args.epochs} epochs, best of {args.repeats}\n")
    print("| workload | rows | fastnn fit s | fastnn loop s | scikit-learn fit s | speed-up | fastnn acc | "
          "scikit-learn acc |")
    print("|---|---|---|---|---|---|---|---|")
    for name, hidden, batch, (X, y), (Xt, yt_) in workloads:
        kw = dict(hidden_layer_sizes=hidden, batch_size=batch, max_iter=args.epochs, tol=0.0, random_state=0)
        with threadpool_limits(args.threads):
            t_fn, fn = _time_fit(lambda: FnMLP(**kw), X, y, args.repeats)
            fnsk._NATIVE_EPOCHS = False
            try:
                t_loop, _ = _time_fit(lambda: FnMLP(**kw), X, y, args.repeats)
            finally:
                fnsk._NATIVE_EPOCHS = True
            t_sk, sk = _time_fit(lambda: SkMLP(**kw), X, y, args.repeats)
        print(f"| {name} | {len(X)} | {t_fn:.3f} | {t_loop:.3f} | {t_sk:.3f} | {t_sk / t_fn:.1f}x | "
              f"{fn.score(Xt, yt_):.4f} | {sk.score(Xt, yt_):.4f} |")


if __name__ == "__main__":
    main()
