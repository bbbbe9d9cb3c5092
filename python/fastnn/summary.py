"""model.summary(): the Keras-style table of layers, output shapes and parameter counts."""
from __future__ import annotations

import numpy as np


def print_summary(model, line_length=None, print_fn=None, show_trainable=False, layer_range=None):
    print_fn = print_fn or print
    layers = model.layers
    if layer_range is not None:
        if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2:
            raise ValueError(f"layer_range: expected [first_name, last_name], got {layer_range!r}")
        names = [l.name for l in layers]
        for nm in layer_range:
            if nm not in names:
                raise ValueError(f"layer_range: no layer named {nm!r}")
        i0, i1 = names.index(layer_range[0]), names.index(layer_range[1])
        layers = layers[i0:i1 + 1]
    rows = []
    for l in layers:
        shape = str((None, *l.output_shape)) if (model.built and l.output_shape is not None) else "?"
        params = f"{l.count_params():,}" if model.built else "0 (unbuilt)"
        row = [f"{l.name} ({type(l).__name__})", shape, params]
        if show_trainable:
            row.append("-" if not l._var_indices else ("Y" if (l.trainable and model.trainable) else "N"))
        rows.append(row)
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
    widths = [max([len(header[c])] + [len(r[c]) for r in rows]) + 2 for c in range(len(header))]
    widths[0] = max(widths[0], 30)
    widths[1] = max(widths[1], 22)
    widths[2] = max(widths[2], 12)
    width = max(sum(widths) + 1, line_length or 0)
    widths[0] += width - (sum(widths) + 1)

    def fmt(cells):
        out = " " + f"{cells[0]:<{widths[0] - 1}}" + f"{cells[1]:<{widths[1]}}" + f"{cells[2]:>{widths[2]}}"
        if show_trainable:
            out += f"{cells[3]:>{widths[3]}}"
        return out

    lines = [f'Model: "{model.name}"', "_" * width, fmt(header), "=" * width]
    for i, r in enumerate(rows):
        lines.append(fmt(r))
        if i != len(rows) - 1:
            lines.append("")
    lines.append("=" * width)
    itemsize = np.dtype(model.dtype).itemsize
    total = sum(int(np.prod(v.shape)) for v in model.weights)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    lines += [f"Total params: {total:,} ({_bytes(total * itemsize)})",
              f"Trainable params: {trainable:,} ({_bytes(trainable * itemsize)})",
              f"Non-trainable params: {total - trainable:,} ({_bytes((total - trainable) * itemsize)})",
              "_" * width]
    for line in lines:
        print_fn(line)


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0
