"""Why does the founding network decide what it does? Attributions per feature on its task.

Trains the founding network (8 -> 10 relu -> 10 relu -> 1 sigmoid) on fastnn.datasets.seed_task,
then attributes its test-set outputs to the 8 input features with three methods and prints the mean
|attribution| per feature; with matplotlib installed it also draws them as a bar chart
(attributions.png, or the path given as the first argument).

    python examples/attributions.py [out.png]
"""
from __future__ import annotations

import os
import sys

import numpy as np

import fastnn
from fastnn import explain, layers

EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "10"))

fastnn.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = fastnn.datasets.seed_task()
model = fastnn.Sequential([
    layers.Input(shape=(8,)),
    layers.Dense(10, activation="relu"),
    layers.Dense(10, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, verbose=0)
print(f"test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")

# The baseline: the average input (the features are standardised, so about zero).
baseline = x_train.mean(axis=0)
ig, delta = explain.integrated_gradients(model, x_test, baselines=baseline, method="exact",
                                         return_convergence_delta=True)
results = {
    "saliency (abs)": np.abs(explain.input_gradients(model, x_test)),
    "integrated gradients (exact)": np.abs(ig),
    "SmoothGrad (stdevs 0.15)": np.abs(explain.smoothgrad(model, x_test, nt_samples=20, random_state=0)),
}
print(f"integrated gradients: largest |sum(attr) - (f(x) - f(baseline))| = {np.abs(delta).max():.1e}")

names = [f"x{i}" for i in range(x_test.shape[1])]
print(f"\nmean |attribution| per feature over {x_test.shape[0]} test rows")
print("| feature | " + " | ".join(results) + " |")
print("|---|" + "---:|" * len(results))
for i, name in enumerate(names):
    print(f"| {name} | " + " | ".join(f"{a[:, i].mean():.4f}" for a in results.values()) + " |")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\n(matplotlib is not installed: no chart)")
    sys.exit(0)

out = sys.argv[1] if len(sys.argv) > 1 else "attributions.png"
fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.2), sharey=False)
for ax, (title, a) in zip(axes, results.items()):
    ax.bar(names, a.mean(axis=0), color="#4878a8")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("feature")
axes[0].set_ylabel("mean |attribution|")
fig.suptitle("Founding network on seed_task: which features drive the output")
fig.tight_layout()
fig.savefig(out, dpi=120)
print(f"\nchart written to {out}")
