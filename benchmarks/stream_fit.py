"""Streamed fit against in-memory fit, and fastnn through a torch DataLoader against PyTorch's own loop.

Rows measured (seconds per epoch, best of --repeats after one warm-up epoch; the machine may be
shared, so the best run is the one least disturbed):
  W1 (8-10-10-1, batch 32, Adam) and W2 (784-512-512-10, batch 128, Adam):
    in-memory   fit(x, y, shuffle=False)
    generator   fit(generator of (x[i:i+b], y[i:i+b]), steps_per_epoch=...): the same rows in the
                same order, read and converted by fastnn's background thread
  W1 through torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True):
    fastnn      fit(loader): the loader's own sample order, rows gathered natively
    fastnn (generic path)  the same data behind a map-style Dataset (batches collated by torch)
    PyTorch     an eager loop over the same loader (nn.Sequential, Adam, BCEWithLogitsLoss)

Targets (issue 12): generator W2 >= 0.5x in-memory; fastnn W1 through a DataLoader >= 20x PyTorch.

    python benchmarks/stream_fit.py [--quick] [--repeats N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np


def _best(fn, repeats):
    fn()  # warm-up: workspaces, threads, first-epoch growth of the chunk size
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _fastnn_model(fn, n_features, units, acts, loss):
    m = fn.Sequential([fn.layers.Input(shape=(n_features,))] +
                      [fn.layers.Dense(u, activation=a) for u, a in zip(units, acts)], seed=0)
    m.compile(optimizer=fn.optimizers.Adam(learning_rate=1e-3), loss=loss)
    return m


def _stream(x, y, bs):
    while True:
        for i in range(0, x.shape[0], bs):
            yield x[i:i + bs], y[i:i + bs]


def workload(fn, name, n, n_features, units, acts, loss, bs, repeats):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n_features), dtype=np.float32)
    y = (rng.random(n) < 0.5).astype(np.float32) if units[-1] == 1 else rng.integers(0, units[-1], n)
    steps = (n + bs - 1) // bs
    mem = _fastnn_model(fn, n_features, units, acts, loss)
    t_mem = _best(lambda: mem.fit(x, y, batch_size=bs, epochs=1, shuffle=False, verbose=0), repeats)
    gen_model = _fastnn_model(fn, n_features, units, acts, loss)
    gen = _stream(x, y, bs)
    t_gen = _best(lambda: gen_model.fit(gen, steps_per_epoch=steps, epochs=1, verbose=0), repeats)
    return {f"{name} in-memory": t_mem, f"{name} generator": t_gen}, x, y


def torch_rows(fn, x, y, repeats):
    import torch
    from torch.utils.data import DataLoader, Dataset, TensorDataset

    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32, shuffle=True)
    out = {}
    m = _fastnn_model(fn, 8, [10, 10, 1], ["relu", "relu", "sigmoid"], "binary_crossentropy")
    out["W1 DataLoader fastnn"] = _best(lambda: m.fit(loader, epochs=1, verbose=0), repeats)

    class Rows(Dataset):
        def __len__(self):
            return x.shape[0]

        def __getitem__(self, i):
            return torch.from_numpy(x[i]), torch.tensor(y[i])

    generic = DataLoader(Rows(), batch_size=32, shuffle=True)
    m2 = _fastnn_model(fn, 8, [10, 10, 1], ["relu", "relu", "sigmoid"], "binary_crossentropy")
    out["W1 DataLoader fastnn (generic path)"] = _best(lambda: m2.fit(generic, epochs=1, verbose=0), repeats)

    net = torch.nn.Sequential(torch.nn.Linear(8, 10), torch.nn.ReLU(), torch.nn.Linear(10, 10), torch.nn.ReLU(),
                              torch.nn.Linear(10, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def torch_epoch():
        net.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb.view(-1, 1))
            loss.backward()
            opt.step()
    out["W1 DataLoader PyTorch"] = _best(torch_epoch, repeats)
    out["_torch"] = torch.__version__
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rows (a smoke run)")
    ap.add_argument("--repeats", type=int, default=5, help="timed epochs per row; the best is reported")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    import fastnn as fn

    w1_rows, w2_rows = (20000, 4096) if args.quick else (100000, 30000)
    res, x1, y1 = workload(fn, "W1", w1_rows, 8, [10, 10, 1], ["relu", "relu", "sigmoid"], "binary_crossentropy",
                           32, args.repeats)
    r2, _, _ = workload(fn, "W2", w2_rows, 784, [512, 512, 10], ["relu", "relu", "softmax"],
                        "sparse_categorical_crossentropy", 128, args.repeats)
    res.update(r2)
    try:
        res.update(torch_rows(fn, x1, y1, args.repeats))
    except ImportError:
        print("torch is not installed: the DataLoader rows are skipped", file=sys.stderr)
    torch_version = res.pop("_torch", None)
    rows = {"W1": w1_rows, "W2": w2_rows}
    print(f"fastnn {getattr(fn, '__version__', '?')}, torch {torch_version}, {platform.processor() or platform.machine()}, "
          f"threads {fn.get_num_threads() if hasattr(fn, 'get_num_threads') else '?'}; best of {args.repeats} epochs")
    for k, v in res.items():
        n = rows[k[:2]]
        print(f"  {k:40s} {v * 1e3:9.1f} ms/epoch  {n / v / 1e3:9.1f} k rows/s")
    ratios = {}
    ratios["W1 generator / in-memory"] = res["W1 in-memory"] / res["W1 generator"]
    ratios["W2 generator / in-memory (target >= 0.5)"] = res["W2 in-memory"] / res["W2 generator"]
    if "W1 DataLoader PyTorch" in res:
        ratios["W1 DataLoader: fastnn / PyTorch speed (target >= 20)"] = \
            res["W1 DataLoader PyTorch"] / res["W1 DataLoader fastnn"]
        ratios["W1 DataLoader generic path: fastnn / PyTorch speed"] = \
            res["W1 DataLoader PyTorch"] / res["W1 DataLoader fastnn (generic path)"]
    for k, v in ratios.items():
        print(f"  {k:58s} {v:6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds_per_epoch": res, "ratios": ratios, "rows": rows, "repeats": args.repeats}, f, indent=1)


if __name__ == "__main__":
    main()
