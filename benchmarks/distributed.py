"""Data-parallel W2 (784-512-512-10, batch 128, Adam) on this machine: 2 MPI ranks with 1 thread each
against 1 process with 2 threads and 1 process with 1 thread; the communication per step, the
loopback all-gather's latency and bandwidth, and a projection to 8 and 64 ranks on 10 and
100 Gbit/s networks.

    python benchmarks/distributed.py [--epochs 4] [--rows 5120]

Every figure is the best of several epochs (the machine is shared; the best is the least
disturbed). Runs stay on loopback and are bounded by timeouts.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def w2(seed=0):
    import fastnn
    m = fastnn.Sequential([fastnn.layers.Input((784,)), fastnn.layers.Dense(512, activation="relu"),
                           fastnn.layers.Dense(512, activation="relu"), fastnn.layers.Dense(10, activation="softmax")],
                          seed=seed)
    m.compile(fastnn.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    return m


def worker(a):
    import fastnn
    from fastnn.distributed import DataParallel
    fastnn.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.rows, 784)).astype(np.float32)
    y = rng.integers(0, 10, a.rows)
    dp = DataParallel(a.comm, shard_rows=32, timeout=120) if a.comm else None
    comm = dp.communicator if dp else None
    m = w2()
    best, comm_s, calls, params = None, 0.0, 0, m.count_params()
    for _ in range(a.epochs):
        if comm is not None:
            comm.barrier()
            c0, n0 = comm.comm_seconds, comm.comm_calls
        t0 = time.perf_counter()
        m.fit(X, y, batch_size=128, epochs=1, verbose=0, distribution=dp)
        dt = time.perf_counter() - t0
        if best is None or dt < best:
            best = dt
            if comm is not None:
                comm_s, calls = comm.comm_seconds - c0, comm.comm_calls - n0
    res = {"samples_per_s": a.rows / best, "step_s": best / (a.rows / 128), "params": params}
    if comm is not None and calls:
        res["comm_per_step_s"] = comm_s / calls
        res["bytes_per_step"] = comm.comm_bytes / max(comm.comm_calls, 1)
        if comm.size > 1:
            # The loopback all-gather: latency (8 bytes) and bandwidth (the step's payload size).
            for label, nbytes in (("latency_s", 8), ("big_s", int(res["bytes_per_step"] / comm.size))):
                buf = np.zeros(nbytes, np.uint8)
                out = np.empty(nbytes * comm.size, np.uint8)
                ts = []
                for _ in range(30 if nbytes == 8 else 10):
                    comm.barrier()
                    t0 = time.perf_counter()
                    comm._exchange(buf, out)
                    ts.append(time.perf_counter() - t0)
                res[label] = min(ts)
            res["big_bytes"] = int(res["bytes_per_step"] / comm.size)
    if comm is None or comm.rank == 0:
        print("RESULT " + json.dumps(res), flush=True)


def run(cmd, timeout=600):
    r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{cmd} failed:\n{r.stdout}\n{r.stderr}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--rows", type=int, default=5120)
    p.add_argument("--worker", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--comm", default=None)
    a = p.parse_args()
    if a.worker:
        return worker(a)
    me = [sys.executable, os.path.abspath(__file__), "--worker", "--epochs", str(a.epochs), "--rows", str(a.rows)]
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    rows = {}
    rows["1 process, 1 thread (plain fit)"] = run(me + ["--threads", "1"])
    rows["1 process, 2 threads (plain fit)"] = run(me + ["--threads", "2"])
    rows["1 process, 1 thread (DataParallel, 1 rank)"] = run(me + ["--threads", "1", "--comm", "local"])
    rows["2 MPI ranks, 1 thread each (DataParallel)"] = run([mpiexec, "-n", "2"] + me + ["--threads", "1", "--comm", "mpi"])
    base = rows["1 process, 1 thread (plain fit)"]["samples_per_s"]
    print(f"{'configuration':48s} {'samples/s':>10s} {'speedup':>8s} {'efficiency':>10s}")
    for k, r in rows.items():
        workers = 2 if ("2 " in k[:2]) else 1
        s = r["samples_per_s"] / base
        print(f"{k:48s} {r['samples_per_s']:10.0f} {s:8.2f} {s / workers:10.2f}")
    d = rows["2 MPI ranks, 1 thread each (DataParallel)"]
    print(f"\ncommunication per step (2 ranks): {d['comm_per_step_s'] * 1e3:.2f} ms of a {d['step_s'] * 1e3:.2f} ms step; "
          f"{d['bytes_per_step'] / 1e6:.2f} MB received per step per rank")
    lat, bw = d["latency_s"], d["big_bytes"] / max(d["big_s"] - d["latency_s"], 1e-9)
    print(f"loopback all-gather: latency {lat * 1e6:.0f} us, bandwidth {bw / 1e9:.2f} GB/s")
    # Projection: weak scaling with 64 rows per rank (global batch 64 P, shard_rows 32), the
    # all-gather of one block sum per rank (ring: (P-1) latencies and (P-1) block sums per rank).
    n_bytes = 4 * d["params"]
    per_row = rows["1 process, 1 thread (DataParallel, 1 rank)"]["step_s"] / 128
    t_comp = 64 * per_row
    print(f"\nprojection (64 rows per rank, compute {t_comp * 1e3:.2f} ms per step, block sum {n_bytes / 1e6:.2f} MB, "
          f"latency {lat * 1e6:.0f} us):")
    for gbit in (10, 100):
        for P in (8, 64):
            t_comm = (P - 1) * (lat + n_bytes / (gbit * 1e9 / 8))
            print(f"  {P:3d} ranks, {gbit:3d} Gbit/s: comm {t_comm * 1e3:8.2f} ms/step, efficiency "
                  f"{t_comp / (t_comp + t_comm):.2f}")


if __name__ == "__main__":
    main()
