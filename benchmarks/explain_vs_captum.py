"""Integrated gradients, fastnn.explain against captum on the same weights, in one run.

    python benchmarks/explain_vs_captum.py [--rows 10000] [--steps 50] [--threads T] [--repeats 3]

Two networks with random weights (float32, Glorot-uniform kernels, biases drawn N(0, 0.1) so that
the ReLUs switch along the path): the founding network 8-10-10-1 (relu, relu, sigmoid) and
784-512-512-10 (relu, relu, softmax, target = class 0 for every row). Both sides compute
IntegratedGradients with method="gausslegendre", n_steps interpolation points, baseline 0, on the
same inputs: fastnn through its native input gradient, captum over a torch.nn.Sequential holding
copies of the weights. captum gets its rows in chunks of the same size as fastnn's native calls
(all of them in one call where the scaled batch is small), so neither holds more interpolated rows in
memory than the other. The runs alternate A-B-B-A; each side's best time is reported, with the
largest difference between the two results relative to the largest attribution.

Prints one markdown row per network.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import fastnn
from fastnn import explain, layers


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _model(widths, acts, seed):
    fastnn.utils.set_random_seed(seed)
    body = [layers.Input(shape=(widths[0],))]
    for w, a in zip(widths[1:], acts):
        body.append(layers.Dense(w, activation=a, bias_initializer=fastnn.initializers.RandomNormal(0.0, 0.1, seed)))
    return fastnn.Sequential(body)


def _torch_twin(model, torch):
    mods = []
    for layer in model.layers:
        k, b = layer.get_weights()
        lin = torch.nn.Linear(k.shape[0], k.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        name = layer.activation.name
        mods.append({"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(), "softmax": torch.nn.Softmax(dim=1)}[name])
    return torch.nn.Sequential(*mods).eval()


def _best(fn, repeats, out):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out[0] = fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None, help="threads for both (default: fastnn's default)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import torch
    from captum.attr import IntegratedGradients

    if args.threads:
        fastnn.set_num_threads(args.threads)
    threads = fastnn.get_num_threads()
    torch.set_num_threads(threads)
    print(f"CPU: {_cpu()}; {threads} threads for fastnn and torch {torch.__version__}; "
          f"captum {__import__('captum').__version__}; fastnn kernel {fastnn.kernel_name()}")
    print(f"integrated gradients, gausslegendre, {args.steps} steps, {args.rows} rows, float32, best of "
          f"{2 * args.repeats} (A-B-B-A)\n")
    print("| network | fastnn (s) | captum (s) | captum / fastnn | rows/s fastnn | max diff / max attr |")
    print("|---|---:|---:|---:|---:|---:|")
    cases = [("8-10-10-1 relu/relu/sigmoid", (8, 10, 10, 1), ("relu", "relu", "sigmoid"), None),
             ("784-512-512-10 relu/relu/softmax", (784, 512, 512, 10), ("relu", "relu", "softmax"), 0)]
    for name, widths, acts, target in cases:
        t_ours, t_theirs, diff = _case(widths, acts, target, args, torch, IntegratedGradients)
        print(f"| {name} | {t_ours:.3f} | {t_theirs:.3f} | {t_theirs / t_ours:.2f}x | "
              f"{args.rows / t_ours:,.0f} | {diff:.1e} |", flush=True)


def _case(widths, acts, target, args, torch, IntegratedGradients):
    model = _model(widths, acts, seed=1)
    x = np.random.default_rng(0).standard_normal((args.rows, widths[0])).astype(np.float32)
    ig = IntegratedGradients(_torch_twin(model, torch))
    # captum's rows per call: fastnn's interpolated rows per native call, whole rows of steps
    per_call = max(1, explain._CALL_ELEMENTS // widths[0] // args.steps)
    xt = torch.from_numpy(x)

    def ours():
        return explain.integrated_gradients(model, x, target=target, n_steps=args.steps)

    def theirs():
        parts = []
        for s in range(0, args.rows, per_call):
            a = ig.attribute(xt[s:s + per_call], baselines=0.0, target=target, n_steps=args.steps,
                             method="gausslegendre")
            parts.append(a.detach().numpy())
        return np.concatenate(parts)

    got, want = [None], [None]
    t_ours = _best(ours, args.repeats, got)
    t_theirs = _best(theirs, args.repeats, want)
    t_theirs = min(t_theirs, _best(theirs, args.repeats, want))
    t_ours = min(t_ours, _best(ours, args.repeats, got))
    return t_ours, t_theirs, float(np.abs(got[0] - want[0]).max() / np.abs(want[0]).max())

if __name__ == "__main__":
    main()
