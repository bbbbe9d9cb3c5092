"""fastnn GEMM against numpy's matmul (OpenBLAS) and torch.matmul, float32 by default, 1 and 2 threads.

Shapes: square 64..2048 and those of a 784-512-512-10 network at batch 128 (forward, weight gradient
through trans_a, input gradient through trans_b). numpy and fastnn are timed alternately, shape by
shape, several rounds each, and the best time of each is kept, so that load from other processes
hurts both alike. PyTorch (when installed) is timed in the same rounds; the last column is fastnn
against the better of the two.

fastnn is timed through the Python binding (fastnn._core.gemm) when it can be imported, else through
the C++ benchmark binary (benchmarks/cpp/bench_gemm.cpp, built with -DFASTNN_BENCHMARKS=ON):

    cmake -S . -B build/bench -G Ninja -DFASTNN_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release
    cmake --build build/bench
    python benchmarks/gemm_vs_numpy.py --bench build/bench/bench_gemm

Prints a markdown table with GFLOP/s and the ratios fastnn / numpy and fastnn / best; --output FILE
also writes it to FILE.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

# OpenBLAS reads these when numpy is imported; some machines set them to values that slow it down.
# Re-run without them so that numpy is measured at its best.
_DROP = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(k in os.environ for k in _DROP) and os.environ.get("_FASTNN_BENCH_CLEAN") != "1":
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env["_FASTNN_BENCH_CLEAN"] = "1"
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402

SQUARE = [64, 128, 256, 512, 1024, 2048]
NET = [  # (tag, M, N, K, trans_a, trans_b)
    ("fwd 128x784 @ 784x512", 128, 512, 784, False, False),
    ("fwd 128x512 @ 512x512", 128, 512, 512, False, False),
    ("fwd 128x512 @ 512x10", 128, 10, 512, False, False),
    ("dW Xᵀ dY 784x512", 784, 512, 128, True, False),
    ("dW Xᵀ dY 512x512", 512, 512, 128, True, False),
    ("dW Xᵀ dY 512x10", 512, 10, 128, True, False),
    ("dX dY Wᵀ 128x10 -> 128x512", 128, 512, 10, False, True),
    ("dX dY Wᵀ 128x512 -> 128x512", 128, 512, 512, False, True),
    ("dX dY Wᵀ 128x512 -> 128x784", 128, 784, 512, False, True),
]


def operands(M, N, K, ta, tb, dtype, rng):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return a, b


CLOCK = time.perf_counter


def best_time(fn, min_time, reps):
    fn()
    n, t = 1, 0.0
    while True:  # calibrate: one timing lasts about min_time / reps
        t0 = CLOCK()
        for _ in range(n):
            fn()
        t = CLOCK() - t0
        if t > min_time / reps / 4 or n > 1 << 20:
            break
        n *= 4
    n = max(1, int(n * (min_time / reps) / max(t, 1e-9)))
    best = float("inf")
    for _ in range(reps):
        t0 = CLOCK()
        for _ in range(n):
            fn()
        best = min(best, (CLOCK() - t0) / n)
    return best


class NumpyRunner:
    def __init__(self):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - the env var route below still works
            threadpool_limits = None
        self.limits = threadpool_limits

    def time(self, M, N, K, ta, tb, dtype, threads, min_time, reps):
        rng = np.random.default_rng(0)
        a, b = operands(M, N, K, ta, tb, dtype, rng)
        A = a.T if ta else a
        B = b.T if tb else b
        c = np.empty((M, N), dtype)
        fn = lambda: np.matmul(A, B, out=c)  # noqa: E731
        if self.limits is None:
            return best_time(fn, min_time, reps)
        with self.limits(limits=threads, user_api="blas"):
            return best_time(fn, min_time, reps)


class TorchRunner:
    def __init__(self):
        import torch

        self.torch = torch

    def time(self, M, N, K, ta, tb, dtype, threads, min_time, reps):
        torch = self.torch
        rng = np.random.default_rng(0)
        a, b = operands(M, N, K, ta, tb, dtype, rng)
        A = torch.from_numpy(a).T if ta else torch.from_numpy(a)
        B = torch.from_numpy(b).T if tb else torch.from_numpy(b)
        c = torch.empty((M, N), dtype=A.dtype)
        old = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return best_time(lambda: torch.matmul(A, B, out=c), min_time, reps)
        finally:
            torch.set_num_threads(old)


class BindingRunner:
    name = "fastnn._core"

    def __init__(self, core):
        self.core = core

    def kernel(self):
        return self.core.kernel_name()

    def time(self, M, N, K, ta, tb, dtype, threads, min_time, reps):
        rng = np.random.default_rng(0)
        a, b = operands(M, N, K, ta, tb, dtype, rng)
        old = self.core.get_num_threads()
        self.core.set_num_threads(threads)
        try:
            return best_time(lambda: self.core.gemm(a, b, trans_a=ta, trans_b=tb), min_time, reps)
        finally:
            self.core.set_num_threads(old)


class BinaryRunner:
    def __init__(self, path, cpu_time=False):
        self.path = path
        self.name = os.path.basename(path)
        self.extra = ["--cpu-time"] if cpu_time else []

    def kernel(self):
        out = subprocess.run([self.path, "--shape", "1,1,1", "--threads", "1", "--quick"],
                             capture_output=True, text=True, check=True).stdout
        return out.split("kernel:")[1].split()[0] if "kernel:" in out else "?"

    def time(self, M, N, K, ta, tb, dtype, threads, min_time, reps):
        dt = "f32" if dtype == np.float32 else "f64"
        cmd = [self.path, "--csv", "--dtype", dt, "--threads", str(threads), "--min-time",
               str(min_time), "--reps", str(reps), "--shape", f"{M},{N},{K},{int(ta)},{int(tb)}",
               *self.extra]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        ns = float(out.splitlines()[-1].split(",")[-1])
        return ns * 1e-9


def find_binary(arg):
    if arg:
        return arg
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    for cand in ("build/bench/bench_gemm", "build/bench_gemm", "build/benchmarks/bench_gemm"):
        p = os.path.join(root, cand)
        if os.path.exists(p):
            return p
    return shutil.which("bench_gemm")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", help="path of the bench_gemm binary (default: the binding if importable)")
    ap.add_argument("--binary", action="store_true", help="use the binary even if the binding exists")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--shapes", default="all", choices=["all", "square", "net"])
    ap.add_argument("--rounds", type=int, default=3, help="alternating numpy/fastnn rounds per shape")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per timing")
    ap.add_argument("--max-size", type=int, default=2048)
    ap.add_argument("--no-torch", action="store_true", help="skip torch.matmul")
    ap.add_argument("--output", help="also write the table to this file")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with process CPU time (steadier on a loaded machine; 1 thread only)")
    args = ap.parse_args()
    if args.cpu_time:
        global CLOCK
        CLOCK = time.process_time
        args.binary = True
        if args.threads != "1":
            sys.exit("--cpu-time only measures single-threaded runs: use --threads 1")

    runner = None
    if not args.binary:
        try:
            import fastnn._core as core  # noqa: F401

            if hasattr(core, "gemm"):
                runner = BindingRunner(core)
        except ImportError:
            pass
    if runner is None:
        path = find_binary(args.bench)
        if not path or not os.path.exists(path):
            sys.exit("no fastnn._core.gemm and no bench_gemm binary: build it or pass --bench PATH")
        runner = BinaryRunner(path, cpu_time=args.cpu_time)

    dtype = np.float32 if args.dtype == "float32" else np.float64
    threads = [int(t) for t in args.threads.split(",")]
    shapes = []
    if args.shapes in ("all", "square"):
        shapes += [(f"square {n}", n, n, n, False, False) for n in SQUARE if n <= args.max_size]
    if args.shapes in ("all", "net"):
        shapes += NET
    npr = NumpyRunner()
    tor = None
    if not args.no_torch and not args.cpu_time:
        try:
            tor = TorchRunner()
        except ImportError:
            pass

    lines = []

    def emit(line):
        print(line, flush=True)
        lines.append(line)

    emit(f"fastnn via {runner.name}, kernel {runner.kernel()}; numpy {np.__version__}"
         f"{'; torch ' + tor.torch.__version__ if tor else ''}; {args.dtype}; "
         f"best of {args.rounds} alternating rounds"
         f"{'; process CPU time' if args.cpu_time else ''}\n")
    emit("| shape | M | N | K | op | threads | numpy GFLOP/s | torch GFLOP/s | fastnn GFLOP/s | "
         "fastnn / numpy | fastnn / best |")
    emit("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for t in threads:
        for tag, M, N, K, ta, tb in shapes:
            tn = tt = tf = float("inf")
            for _ in range(args.rounds):
                tn = min(tn, npr.time(M, N, K, ta, tb, dtype, t, args.min_time, 3))
                if tor:
                    tt = min(tt, tor.time(M, N, K, ta, tb, dtype, t, args.min_time, 3))
                tf = min(tf, runner.time(M, N, K, ta, tb, dtype, t, args.min_time, 3))
            fl = 2.0 * M * N * K
            op = ("Aᵀ" if ta else "A") + ("Bᵀ" if tb else "B")
            torch_cell = f"{fl / tt * 1e-9:.1f}" if tor else "—"
            emit(f"| {tag} | {M} | {N} | {K} | {op} | {t} | {fl / tn * 1e-9:.1f} | {torch_cell} | "
                 f"{fl / tf * 1e-9:.1f} | {tn / tf:.2f} | {min(tn, tt) / tf:.2f} |")
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
