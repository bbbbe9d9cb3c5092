"""fastnn on an NVIDIA GPU against PyTorch's eager CUDA loop, in one process and one run.

    python benchmarks/gpu_bench.py --out DIR [--epochs 3] [--quick]

Workloads (benchmarks/peers.py's shapes): W1, the founding network 8-10-10-1 (batch 32, 100,000
rows, Adam, binary cross-entropy) and W2, 784-512-512-10 (batch 128, 60,000 rows, Adam, sparse
categorical cross-entropy). Both sides keep the data on the device, shuffle every epoch and run one
warm-up epoch before the timed ones; PyTorch synchronises once per epoch (as fastnn's chunks do at
most every ~50 ms). Writes gpu_bench.json and gpu_bench.md in DIR; prints the table.

The fused small-network kernel (the whole step of a network of widths <= 128 in one kernel) is not
built yet: its row reads "not built", and fastnn's W1 figure is the cuBLASLt path.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

WORKLOADS = {
    "w1": dict(title="W1 founding network 8-10-10-1", din=8, units=[10, 10, 1], acts=["relu", "relu", "sigmoid"],
               loss="binary_crossentropy", batch=32, rows=100000, classes=None),
    "w2": dict(title="W2 784-512-512-10", din=784, units=[512, 512, 10], acts=["relu", "relu", "softmax"],
               loss="sparse_categorical_crossentropy", batch=128, rows=60000, classes=10),
}


def data(w, quick):
    rng = np.random.default_rng(0)
    n = w["rows"] // (5 if quick else 1)
    x = rng.standard_normal((n, w["din"])).astype("float32")
    if w["classes"]:
        y = (x[:, :w["classes"]] @ rng.standard_normal((w["classes"], w["classes"]))).argmax(1)
        y = y.astype("float32").reshape(-1, 1)
    else:
        y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def time_fastnn(w, x, y, epochs):
    import fastnn

    layers = [fastnn.layers.Input((w["din"],))]
    layers += [fastnn.layers.Dense(u, activation=a) for u, a in zip(w["units"], w["acts"])]
    m = fastnn.Sequential(layers, seed=1)
    m.compile(fastnn.optimizers.Adam(1e-3), w["loss"], device="cuda")
    times = []

    class T(fastnn.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, e, logs=None):
            times.append(time.perf_counter() - self.t)
    h = m.fit(x, y, batch_size=w["batch"], epochs=epochs + 1, verbose=0, callbacks=[T()])
    return times[1:], float(h.history["loss"][-1])


def time_torch(w, x, y, epochs):
    import torch

    dev = torch.device("cuda")
    torch.manual_seed(1)
    mods, d = [], w["din"]
    for u, a in zip(w["units"], w["acts"]):
        mods.append(torch.nn.Linear(d, u))
        if a == "relu":
            mods.append(torch.nn.ReLU())
        d = u
    net = torch.nn.Sequential(*mods).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    X = torch.from_numpy(x).to(dev)
    if w["classes"]:
        Y = torch.from_numpy(y[:, 0].astype("int64")).to(dev)
        lossf = torch.nn.CrossEntropyLoss()
    else:
        Y = torch.from_numpy(y).to(dev)
        lossf = torch.nn.BCEWithLogitsLoss()
    n, bs = X.shape[0], w["batch"]
    times, last = [], float("nan")
    for e in range(epochs + 1):
        torch.cuda.synchronize()
        t = time.perf_counter()
        perm = torch.randperm(n, device=dev)
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            opt.zero_grad(set_to_none=True)
            loss = lossf(net(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        last = float(loss.item())
    return times[1:], last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    import fastnn
    import fastnn.cuda

    if not fastnn.cuda.is_available():
        print(f"gpu_bench: CUDA is not available: {fastnn.cuda.why_unavailable()}", file=sys.stderr)
        return 2
    try:
        import torch
        torch_ok = torch.cuda.is_available()
        torch_version = torch.__version__
    except ImportError:
        torch_ok, torch_version = False, None
    result = {"device": fastnn.cuda.status()["devices"], "python": platform.python_version(),
              "fastnn_config": fastnn.show_config(mode="dict"), "torch": torch_version, "rows": []}
    for key, w in WORKLOADS.items():
        x, y = data(w, a.quick)
        steps = (x.shape[0] + w["batch"] - 1) // w["batch"]
        row = {"workload": w["title"], "rows": x.shape[0], "steps_per_epoch": steps}
        ft, fl = time_fastnn(w, x, y, a.epochs)
        row["fastnn_epoch_s"] = statistics.median(ft)
        row["fastnn_steps_per_s"] = steps / row["fastnn_epoch_s"]
        row["fastnn_final_loss"] = fl
        if torch_ok:
            tt, tl = time_torch(w, x, y, a.epochs)
            row["torch_epoch_s"] = statistics.median(tt)
            row["torch_steps_per_s"] = steps / row["torch_epoch_s"]
            row["torch_final_loss"] = tl
            row["speedup_vs_torch"] = row["torch_epoch_s"] / row["fastnn_epoch_s"]
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
    result["fused_small_network_kernel"] = "not built (the W1 figure is the cuBLASLt path)"
    with open(os.path.join(a.out, "gpu_bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = [f"GPU: {', '.join(result['device'])}; torch {torch_version}", "",
             "| workload | fastnn steps/s | torch steps/s | fastnn / torch |", "|---|---|---|---|"]
    for r in result["rows"]:
        t = f"{r['torch_steps_per_s']:.0f}" if "torch_steps_per_s" in r else "n/a"
        s = f"{r['speedup_vs_torch']:.2f}x" if "speedup_vs_torch" in r else "n/a"
        lines.append(f"| {r['workload']} | {r['fastnn_steps_per_s']:.0f} | {t} | {s} |")
    lines += ["", f"fused small-network kernel: {result['fused_small_network_kernel']}"]
    with open(os.path.join(a.out, "gpu_bench.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
