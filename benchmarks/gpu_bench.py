"""fastnn on an NVIDIA GPU against PyTorch's eager CUDA loop, in one process and one run.

    python benchmarks/gpu_bench.py --out DIR [--epochs 3] [--quick]

Workloads (benchmarks/peers.py's shapes): W1, the founding network 8-10-10-1 (batch 32, 100,000
rows, Adam, binary cross-entropy), W2, 784-512-512-10 (batch 128, 60,000 rows, Adam, sparse
categorical cross-entropy) and W3, a small MLP 32-64-64-1 (batch 64, 100,000 rows, Adam, MSE). Both
sides keep the data on the device, shuffle every epoch and run one warm-up epoch before the timed
ones; PyTorch synchronises once per epoch (as fastnn's chunks do at most every ~50 ms). Writes
gpu_bench.json and gpu_bench.md in DIR; prints the table.

Where the fused small-network kernel applies (every width <= 128, W1 and W3) fastnn runs twice: as
chosen automatically (the fused kernel) and with FASTNN_CUDA_FUSED=0 (the plain cuBLASLt path), and
the row reports the fused kernel's speed-up over the cuBLASLt path.
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
    "w3": dict(title="W3 small MLP 32-64-64-1", din=32, units=[64, 64, 1], acts=["relu", "relu", None],
               loss="mse", batch=64, rows=100000, classes=None, regression=True),
}


def data(w, quick):
    rng = np.random.default_rng(0)
    n = w["rows"] // (5 if quick else 1)
    x = rng.standard_normal((n, w["din"])).astype("float32")
    if w["classes"]:
        y = (x[:, :w["classes"]] @ rng.standard_normal((w["classes"], w["classes"]))).argmax(1)
        y = y.astype("float32").reshape(-1, 1)
    elif w.get("regression"):
        y = np.sin(x[:, :4].sum(1, keepdims=True)).astype("float32")
    else:
        y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def time_fastnn(w, x, y, epochs, fused=True):
    """Epoch times, the final loss and the reason the fused kernel was not used ("" when it was)."""
    import fastnn

    if fused:
        os.environ.pop("FASTNN_CUDA_FUSED", None)
    else:
        os.environ["FASTNN_CUDA_FUSED"] = "0"

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
    reason = m._engine._dev.fused_reason if m._engine._dev is not None else "no device mirror"
    os.environ.pop("FASTNN_CUDA_FUSED", None)
    return times[1:], float(h.history["loss"][-1]), reason


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
    elif w.get("regression"):
        Y = torch.from_numpy(y).to(dev)
        lossf = torch.nn.MSELoss()
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
        ft, fl, why = time_fastnn(w, x, y, a.epochs)
        row["fastnn_epoch_s"] = statistics.median(ft)
        row["fastnn_steps_per_s"] = steps / row["fastnn_epoch_s"]
        row["fastnn_final_loss"] = fl
        row["fused_kernel"] = "used" if not why else f"not used: {why}"
        if not why:
            ct, cl, _ = time_fastnn(w, x, y, a.epochs, fused=False)
            row["cublas_path_steps_per_s"] = steps / statistics.median(ct)
            row["cublas_path_final_loss"] = cl
            row["fused_vs_cublas"] = row["fastnn_steps_per_s"] / row["cublas_path_steps_per_s"]
        if torch_ok:
            tt, tl = time_torch(w, x, y, a.epochs)
            row["torch_epoch_s"] = statistics.median(tt)
            row["torch_steps_per_s"] = steps / row["torch_epoch_s"]
            row["torch_final_loss"] = tl
            row["speedup_vs_torch"] = row["torch_epoch_s"] / row["fastnn_epoch_s"]
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
    with open(os.path.join(a.out, "gpu_bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = [f"GPU: {', '.join(result['device'])}; torch {torch_version}", "",
             "| workload | fastnn steps/s | torch steps/s | fastnn / torch | cuBLASLt path steps/s | fused / cuBLASLt |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        t = f"{r['torch_steps_per_s']:.0f}" if "torch_steps_per_s" in r else "n/a"
        s = f"{r['speedup_vs_torch']:.2f}x" if "speedup_vs_torch" in r else "n/a"
        c = f"{r['cublas_path_steps_per_s']:.0f}" if "cublas_path_steps_per_s" in r else "n/a"
        f = f"{r['fused_vs_cublas']:.2f}x" if "fused_vs_cublas" in r else r["fused_kernel"]
        lines.append(f"| {r['workload']} | {r['fastnn_steps_per_s']:.0f} | {t} | {s} | {c} | {f} |")
    with open(os.path.join(a.out, "gpu_bench.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
